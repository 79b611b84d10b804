import { availableParallelism } from 'node:os';
import { parseBackendChoice } from '@deepline/core';
import { registerNativeKernels } from '@deepline/kernels-native';
import { startServer } from '@deepline/serving';
import { type Command, UsageError, parseFlags } from '../command.js';

function positiveInt(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve a model over OpenAI- and TF-Serving-compatible HTTP with continuous batching',
  usage:
    'deepline serve --model <dir> [--port 8000] [--host 127.0.0.1] [--api-key KEY] [--workers N] [--name NAME] ' +
    '[--backend auto|wasm|cpu|…] [--max-batch-size 64] [--max-queue 256] [--kv-cache-mb MB] [--timeout SECONDS] [--max-body-bytes N] ' +
    '[--max-prompt-tokens N] [--cache] [--blocklist FILE]   (env: DEEPLINE_API_KEY, REDIS_URL)',
  async run({ argv, stdout }) {
    const { values, positionals } = parseFlags(argv, {
      model: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      workers: { type: 'string' },
      name: { type: 'string' },
      backend: { type: 'string' },
      'max-batch-size': { type: 'string' },
      'max-queue': { type: 'string' },
      'kv-cache-mb': { type: 'string' },
      timeout: { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'max-prompt-tokens': { type: 'string' },
      cache: { type: 'boolean' },
      blocklist: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.model) throw new UsageError('--model <dir> is required');
    const timeout = positiveInt(values.timeout, '--timeout');
    const kvMb = positiveInt(values['kv-cache-mb'], '--kv-cache-mb');
    // Native GEMM for float32 matmuls on wasm where the optional addon is built (a no-op otherwise);
    // each cluster worker runs this too, so the cores are shared out between them.
    const workers = positiveInt(values.workers, '--workers') ?? 1;
    await registerNativeKernels({ wasmKernels: false, threads: Math.max(1, Math.floor(availableParallelism() / workers)) });
    const server = await startServer({
      modelDir: values.model,
      modelName: values.name,
      port: positiveInt(values.port, '--port', 0) ?? 8000,
      host: values.host,
      apiKey: values['api-key'] ?? (process.env.DEEPLINE_API_KEY || undefined),
      workers: positiveInt(values.workers, '--workers'),
      backend: values.backend === undefined ? undefined : parseBackendChoice(values.backend, '--backend'),
      responseCache: values.cache ?? false,
      blocklistFile: values.blocklist,
      maxBodyBytes: positiveInt(values['max-body-bytes'], '--max-body-bytes'),
      maxPromptTokens: positiveInt(values['max-prompt-tokens'], '--max-prompt-tokens'),
      requestTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
      engine: {
        maxBatchSize: positiveInt(values['max-batch-size'], '--max-batch-size'),
        maxQueueSize: positiveInt(values['max-queue'], '--max-queue'),
        kvCacheBudgetBytes: kvMb === undefined ? undefined : kvMb * 1024 * 1024,
      },
      log: (line) => stdout.write(`${line}\n`),
    });
    await server.closed;
    stdout.write('stopped\n');
    return 0;
  },
};
