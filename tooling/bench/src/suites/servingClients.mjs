// Load generator for serving.bench.ts. Plain JavaScript so it runs in a worker thread
// without a TypeScript loader; the worker keeps the clients' SSE work off the server's
// event loop. workerData: {url, clients, perClient, promptLen, maxTokens, vocabSize}; prompt
// lengths and max_tokens vary per request around those means (like real traffic), the same
// way for every server measured.
// node:http with a keep-alive agent, not fetch: the client shares the machine's cores with
// the server it measures, and web streams cost several times more CPU per streamed token.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

/** One streamed completion; resolves with time to first token (ms) and tokens received. */
function streamOne(agent, url, prompt, maxTokens) {
  const body = JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } });
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/v1/completions`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let ttft = -1;
        let tail = '';
        let text = '';
        if (res.statusCode !== 200) {
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => reject(new Error(`bench request failed: ${res.statusCode} ${text}`)));
          return;
        }
        res.setEncoding('latin1');
        res.on('data', (chunk) => {
          if (ttft < 0) ttft = performance.now() - start;
          // Only the usage chunk is parsed; keep the end of the previous read in case it is split.
          tail = (tail + chunk).slice(-512);
        });
        res.on('end', () => {
          const at = tail.lastIndexOf('"usage":{');
          const tokens = at >= 0 ? Number(/"completion_tokens":(\d+)/.exec(tail.slice(at))?.[1]) : Number.NaN;
          if (!tail.endsWith('data: [DONE]\n\n') || !Number.isFinite(tokens)) reject(new Error('bench stream ended without usage and [DONE]'));
          else resolve({ ttft, tokens });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Length factors, mean 1: request lengths spread around the configured means. */
const SPREAD = [0.5, 1.25, 0.75, 1.5, 1];

/** `clients` concurrent clients, each sending `perClient` requests back to back. */
async function runLoad(load) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.clients });
  const ttfts = [];
  let tokens = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: load.clients }, async (_, c) => {
      for (let r = 0; r < load.perClient; r++) {
        const promptLen = Math.max(1, Math.round(load.promptLen * SPREAD[(c + 2 * r) % SPREAD.length]));
        const maxTokens = Math.max(1, Math.round(load.maxTokens * SPREAD[(3 * c + r) % SPREAD.length]));
        const prompt = Array.from({ length: promptLen }, (_, i) => (c * 131 + r * 17 + i * 7) % load.vocabSize);
        const result = await streamOne(agent, load.url, prompt, maxTokens);
        ttfts.push(result.ttft);
        tokens += result.tokens;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { tokens, seconds, ttfts };
}

runLoad(workerData).then(
  (result) => parentPort.postMessage({ ok: true, result }),
  (error) => parentPort.postMessage({ ok: false, error: error.message }),
);
