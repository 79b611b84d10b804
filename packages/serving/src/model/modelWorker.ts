// Worker-thread side of WorkerLanguageModel: owns the tfjs backend and the model, and runs
// the batched passes the engine asks for. Messages are plain data (see workerProtocol.ts).
import { parentPort } from 'node:worker_threads';
import { initBackend } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { loadQuantizedModel } from '@deepline/quantizer';
import type { DecodeStep, NextToken, PrefillChunk } from '../engine/languageModel.js';
import { DeepseekLanguageModel } from './deepseekLanguageModel.js';
import type { WorkerReply, WorkerRequest, WorkerStart } from './workerProtocol.js';

const port = parentPort;
if (!port) throw new Error('modelWorker.ts runs only as a worker thread');

let lm: DeepseekLanguageModel | undefined;
let release: (() => void) | undefined;
const sequences = new Map<number, ReturnType<DeepseekLanguageModel['createSequence']>>();

async function start(message: WorkerStart): Promise<WorkerReply> {
  // Kernel registration (or any other set-up) the host asked for, before the backend starts.
  if (message.setup) await ((await import(message.setup)) as { default: () => Promise<void> | void }).default();
  await initBackend({ backend: message.backend });
  const source = message.source;
  const model =
    source.kind === 'dir' ? await loadQuantizedModel(source.dir) : DeepseekModel.create(source.config, { seed: source.seed, initStd: source.initStd });
  lm = new DeepseekLanguageModel(model, { contextLength: source.contextLength });
  const owned = lm;
  release = () => {
    owned.dispose();
    model.dispose();
  };
  return { kind: 'started', vocabSize: lm.vocabSize, contextLength: lm.contextLength, kvBytesPerToken: lm.kvBytesPerToken };
}

function sequence(id: number) {
  let s = sequences.get(id);
  if (!s) {
    s = lm!.createSequence();
    sequences.set(id, s);
  }
  return s;
}

async function run(message: Extract<WorkerRequest, { kind: 'run' }>): Promise<NextToken[]> {
  const chunks: PrefillChunk[] = message.chunks.map((c) => ({ sequence: sequence(c.id), tokens: c.tokens, greedy: c.greedy }));
  const steps: DecodeStep[] = message.steps.map((s) => ({ sequence: sequence(s.id), token: s.token, greedy: s.greedy }));
  if (chunks.length > 0 && steps.length > 0) {
    const out = await lm!.step(chunks, steps);
    return [...out.prefill, ...out.decode];
  }
  return chunks.length > 0 ? lm!.prefill(chunks) : lm!.decode(steps);
}

port.on('message', (message: WorkerRequest) => {
  const reply = (body: WorkerReply) => port.postMessage({ ...body, request: message.request });
  const fail = (error: unknown) => reply({ kind: 'error', message: (error as Error)?.message ?? String(error) });
  switch (message.kind) {
    case 'start':
      start(message).then(reply, fail);
      break;
    case 'dispose':
      sequences.get(message.id)?.dispose();
      sequences.delete(message.id);
      break;
    case 'run':
      run(message).then((results) => reply({ kind: 'results', results }), fail);
      break;
    case 'close':
      for (const s of sequences.values()) s.dispose();
      sequences.clear();
      release?.();
      reply({ kind: 'closed' });
      break;
  }
});
