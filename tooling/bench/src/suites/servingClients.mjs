// Load generator for serving.bench.ts. Plain JavaScript so it runs in a worker thread
// without a TypeScript loader; the worker keeps the clients' JSON/SSE work off the
// server's event loop. workerData: {url, clients, perClient, promptLen, maxTokens, vocabSize}.
import { parentPort, workerData } from 'node:worker_threads';

/** One streamed completion; returns time to first token (ms) and tokens received. */
async function streamOne(url, prompt, maxTokens) {
  const start = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok || !res.body) throw new Error(`bench request failed: ${res.status} ${await res.text()}`);
  // Only the usage chunk is parsed: the client shares the machine's two cores with the
  // server, so per-token work here would slow the server it measures.
  let ttft = -1;
  let tokens = 0;
  let tail = '';
  for await (const chunk of res.body) {
    if (ttft < 0) ttft = performance.now() - start;
    const text = tail + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const at = text.lastIndexOf('"usage":{');
    if (at >= 0) tokens = Number(/"completion_tokens":(\d+)/.exec(text.slice(at))?.[1] ?? tokens);
    // Keep enough of the end for a usage object split across reads.
    tail = text.slice(-256);
  }
  return { ttft, tokens };
}

/** `clients` concurrent clients, each sending `perClient` requests back to back. */
async function runLoad(load) {
  const ttfts = [];
  let tokens = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: load.clients }, async (_, c) => {
      for (let r = 0; r < load.perClient; r++) {
        const prompt = Array.from({ length: load.promptLen }, (_, i) => (c * 131 + r * 17 + i * 7) % load.vocabSize);
        const result = await streamOne(load.url, prompt, load.maxTokens);
        ttfts.push(result.ttft);
        tokens += result.tokens;
      }
    }),
  );
  return { tokens, seconds: (performance.now() - start) / 1000, ttfts };
}

runLoad(workerData).then(
  (result) => parentPort.postMessage({ ok: true, result }),
  (error) => parentPort.postMessage({ ok: false, error: error.message }),
);
