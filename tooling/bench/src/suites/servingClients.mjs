// Load generator for serving.bench.ts. Plain JavaScript so it runs in a worker thread
// without a TypeScript loader; the worker keeps the clients' SSE work off the server's
// event loop. workerData: {url, clients, windowMs, promptLen, maxTokens, vocabSize}.
//
// Closed loop over a fixed time window: each client sends a streamed completion, and the
// next as soon as one ends, until the window closes; requests still running then are
// cancelled. Throughput counts the tokens that arrived inside the window, so it is the
// steady state (no tail of stragglers running alone at the end of a fixed request count).
// Prompt lengths and max_tokens vary per request around the means, like real traffic, and
// the same way for every server measured.
// node:http with a keep-alive agent, not fetch: the client shares the machine's cores with
// the server it measures, and web streams cost several times more CPU per streamed token.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

/** Length factors, mean 1: request lengths spread around the configured means. */
const SPREAD = [0.5, 1.25, 0.75, 1.5, 1];
/** Every token chunk of a completion stream carries this once (the finish and usage chunks do not). */
const TOKEN_MARK = '"finish_reason":null';

function countMarks(text) {
  let n = 0;
  for (let at = text.indexOf(TOKEN_MARK); at >= 0; at = text.indexOf(TOKEN_MARK, at + TOKEN_MARK.length)) n++;
  return n;
}

/**
 * One streamed completion. Resolves when it ends or the window closes with
 * `{ ttft, waited, tokens }`: ttft in ms (-1 if no token arrived), waited = ms spent without
 * a first token (a lower bound of the TTFT when cut off), tokens received in the window.
 */
function streamOne(agent, url, prompt, maxTokens, deadline) {
  const body = JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, temperature: 0, stream: true });
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let ttft = -1;
    let tokens = 0;
    let tail = '';
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ttft, waited: ttft >= 0 ? ttft : performance.now() - start, tokens });
    };
    const req = http.request(
      `${url}/v1/completions`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => reject(new Error(`bench request failed: ${res.statusCode} ${text}`)));
          return;
        }
        res.setEncoding('latin1');
        res.on('data', (chunk) => {
          if (settled) return;
          if (ttft < 0) ttft = performance.now() - start;
          // A mark split across two reads is counted once: only marks ending in this read count.
          const text = tail + chunk;
          tokens += countMarks(text) - countMarks(tail);
          tail = text.slice(-(TOKEN_MARK.length - 1));
        });
        res.on('end', finish);
        res.on('error', (error) => (settled ? undefined : reject(error)));
      },
    );
    // The window closed: stop reading and hang up (the server cancels the generation).
    const timer = setTimeout(() => {
      finish();
      req.destroy();
    }, Math.max(0, deadline - performance.now()));
    req.on('error', (error) => (settled ? undefined : reject(error)));
    req.end(body);
  });
}

/** `clients` concurrent clients, each sending requests back to back until the window closes. */
async function runLoad(load) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.clients });
  const ttfts = [];
  let tokens = 0;
  let requests = 0;
  const start = performance.now();
  const deadline = start + load.windowMs;
  await Promise.all(
    Array.from({ length: load.clients }, async (_, c) => {
      for (let r = 0; performance.now() < deadline; r++) {
        const promptLen = Math.max(1, Math.round(load.promptLen * SPREAD[(c + 2 * r) % SPREAD.length]));
        const maxTokens = Math.max(1, Math.round(load.maxTokens * SPREAD[(3 * c + r) % SPREAD.length]));
        const prompt = Array.from({ length: promptLen }, (_, i) => (c * 131 + r * 17 + i * 7) % load.vocabSize);
        const result = await streamOne(agent, load.url, prompt, maxTokens, deadline);
        // A request cut off before its first token still waited that long: a lower bound.
        ttfts.push(result.ttft >= 0 ? result.ttft : result.waited);
        tokens += result.tokens;
        requests++;
      }
    }),
  );
  agent.destroy();
  return { tokens, seconds: load.windowMs / 1000, ttfts, requests };
}

runLoad(workerData).then(
  (result) => parentPort.postMessage({ ok: true, result }),
  (error) => parentPort.postMessage({ ok: false, error: error.message }),
);
