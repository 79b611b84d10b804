import type { DecodeStep, LanguageModel, ModelSequence, PrefillChunk } from '../engine/languageModel.js';

/**
 * A deterministic stand-in model for scheduler tests only: the logits after a prefix are a
 * hash of the whole prefix, so any token fed out of order, dropped or duplicated changes
 * the output. It records batch sizes and live sequences so tests can see the scheduling.
 */
export class FakeLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly kvBytesPerToken = 64;
  readonly decodeBatchSizes: number[] = [];
  readonly prefillChunks: number[] = [];
  /** (prompt chunks, decode rows) of each mixed step, when mixed steps are enabled. */
  readonly mixedSteps: Array<[number, number]> = [];
  live = 0;
  private readonly stepDelayMs: number;

  constructor(options: { vocabSize?: number; contextLength?: number; stepDelayMs?: number; mixedSteps?: boolean } = {}) {
    this.vocabSize = options.vocabSize ?? 64;
    this.contextLength = options.contextLength ?? 128;
    this.stepDelayMs = options.stepDelayMs ?? 0;
    if (!options.mixedSteps) this.step = undefined;
  }

  /** Prompt chunks and decode rows in one call (only with `mixedSteps: true`). */
  step?: LanguageModel['step'] = async (chunks, steps) => {
    this.mixedSteps.push([chunks.length, steps.length]);
    for (const { sequence, tokens } of chunks) for (const t of tokens) (sequence as FakeSequence).append(t);
    for (const step of steps) (step.sequence as FakeSequence).append(step.token);
    await this.delay();
    return {
      prefill: chunks.map((c) => this.logitsFor((c.sequence as FakeSequence).hash)),
      decode: steps.map((step) => this.logitsFor((step.sequence as FakeSequence).hash)),
    };
  };

  createSequence(): FakeSequence {
    this.live++;
    return new FakeSequence(() => this.live--);
  }

  async prefill(chunks: ReadonlyArray<PrefillChunk>): Promise<Float32Array[]> {
    for (const { sequence, tokens } of chunks) {
      this.prefillChunks.push(tokens.length);
      for (const t of tokens) (sequence as FakeSequence).append(t);
    }
    await this.delay();
    return chunks.map((c) => this.logitsFor((c.sequence as FakeSequence).hash));
  }

  async decode(steps: ReadonlyArray<DecodeStep>): Promise<Float32Array[]> {
    this.decodeBatchSizes.push(steps.length);
    for (const step of steps) (step.sequence as FakeSequence).append(step.token);
    await this.delay();
    return steps.map((step) => this.logitsFor((step.sequence as FakeSequence).hash));
  }

  /** Logits as a pure function of the prefix hash, values in [0, 10). */
  logitsFor(hash: number): Float32Array {
    const out = new Float32Array(this.vocabSize);
    for (let v = 0; v < this.vocabSize; v++) out[v] = ((Math.imul(hash ^ Math.imul(v + 1, 0x9e3779b1), 0x85ebca6b) >>> 0) % 1000) / 100;
    return out;
  }

  private delay(): Promise<void> {
    return this.stepDelayMs > 0 ? new Promise((r) => setTimeout(r, this.stepDelayMs)) : Promise.resolve();
  }
}

export class FakeSequence implements ModelSequence {
  hash = 0x811c9dc5;
  length = 0;
  private disposed = false;

  constructor(private readonly onDispose: () => void) {}

  append(token: number): void {
    if (this.disposed) throw new Error('sequence used after dispose');
    this.hash = Math.imul(this.hash ^ (token + 1), 0x01000193) >>> 0;
    this.length++;
  }

  dispose(): void {
    if (this.disposed) throw new Error('sequence disposed twice');
    this.disposed = true;
    this.onDispose();
  }
}

/** Greedy continuation computed straight from the fake's hash, without any engine. */
export function fakeGreedy(model: FakeLanguageModel, prompt: readonly number[], count: number): number[] {
  const seq = new FakeSequence(() => {});
  for (const t of prompt) seq.append(t);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const logits = model.logitsFor(seq.hash);
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
    out.push(best);
    seq.append(best);
  }
  return out;
}
