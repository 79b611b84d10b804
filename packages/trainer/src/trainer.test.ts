import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, initBackend, type Tracker, tf } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayBatchSource } from './batchSource.js';
import { listCheckpoints, readCheckpoint } from './checkpoint.js';
import { microBatchGradients } from './microBatch.js';
import type { TrainableModel } from './model.js';
import { cyclicCorpus, cyclicSource } from './testing/fixtures.js';
import { TinyMoeLm } from './testing/tinyMoeLm.js';
import { Trainer } from './trainer.js';

const small = { vocabSize: 16, dim: 16, nExperts: 4, topK: 2 };
let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  dir = await makeTempDir('trainer-test-');
});
afterAll(async () => {
  await removeDir(dir);
});

const snapshot = (m: TrainableModel) =>
  new Map([...m.namedWeights()].map(([n, v]) => [n, [...v.dataSync()]]));

describe('Trainer', () => {
  it('loss decreases and a repeated sequence is memorised', async () => {
    const model = new TinyMoeLm(small, 3);
    const trainer = new Trainer({
      model,
      data: new ArrayBatchSource({
        sequences: cyclicCorpus({ vocabSize: 16, seqLen: 17, count: 4 }),
        batchSize: 4,
      }),
      schedule: { kind: 'cosine', peakLr: 0.05, warmupSteps: 5, totalSteps: 80, minLr: 0.005 },
      maxSteps: 80,
      optimizer: { weightDecay: 0 },
      progress: false,
    });
    const losses: number[] = [];
    for (let i = 0; i < 80; i++) losses.push((await trainer.trainStep())!.lmLoss);
    expect(losses[0]).toBeGreaterThan(2);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 4);
    // Memorisation target: next-token loss under 0.05 nats, i.e. ≥ 95% probability on the right token.
    expect(losses.at(-1)!).toBeLessThan(0.05);
    model.dispose();
  });

  it('fit stops when the data runs out, discarding a partial accumulation', async () => {
    const model = new TinyMoeLm(small, 23);
    // 6 sequences, batch 2, 1 epoch = 3 micro-batches: one step of 2, then 1 left over.
    const data = cyclicSource({ vocabSize: 16, seqLen: 9, count: 6, batchSize: 2, epochs: 1 });
    const trainer = new Trainer({
      model,
      data,
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 10,
      gradAccumulation: 2,
      progress: false,
    });
    const summary = await trainer.fit();
    expect(summary).toMatchObject({ reason: 'data-exhausted', steps: 1, tokensSeen: 2 * 2 * 8 });
    model.dispose();
  });

  it('accumulating 2 micro-batches of 2 equals one batch of 4', async () => {
    const seqs = cyclicCorpus({ vocabSize: 16, seqLen: 9, count: 4 });
    const a = new TinyMoeLm(small, 5);
    const b = new TinyMoeLm(small, 5);
    const big = microBatchGradients({
      model: a,
      batch: { tokens: concat(seqs), batchSize: 4, seqLen: 9 },
      params: trainable(a),
      balanceAlpha: 0.01,
      mtpLambda: 0,
      recompute: false,
      rng: undefined as never,
    });
    expect(big.balanceLoss).toBeGreaterThan(0);
    const common = {
      schedule: { kind: 'constant' as const, lr: 0.01 },
      maxSteps: 3,
      moe: { balanceAlpha: 0.01, biasGamma: 0.01 },
      progress: false as const,
    };
    const t1 = new Trainer({
      ...common,
      model: a,
      data: new ArrayBatchSource({ sequences: seqs, batchSize: 4 }),
    });
    const t2 = new Trainer({
      ...common,
      model: b,
      data: new ArrayBatchSource({ sequences: seqs, batchSize: 2 }),
      gradAccumulation: 2,
    });
    const m1 = await t1.trainStep();
    const m2 = await t2.trainStep();
    expect(m2!.loss).toBeCloseTo(m1!.loss, 5);
    expect(m2!.gradNorm).toBeCloseTo(m1!.gradNorm, 5);
    expect(m2!.expertLoad).toEqual(m1!.expertLoad);
    const wa = snapshot(a);
    for (const [name, values] of snapshot(b)) {
      values.forEach((v, i) => {
        expect(Math.abs(v - wa.get(name)![i]!)).toBeLessThan(2e-5);
      });
    }
    tf.dispose([...big.grads.values()]);
  });

  it('applies the bias update after each step from the step loads', async () => {
    const model = new TinyMoeLm(small, 9);
    const bias = model.namedWeights().get('model.layers.0.mlp.gate.e_score_correction_bias')!;
    const trainer = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 8, batchSize: 4 }),
      schedule: { kind: 'constant', lr: 0 },
      maxSteps: 1,
      moe: { biasGamma: 0.125 },
      progress: false,
    });
    const m = (await trainer.trainStep())!;
    const load = m.expertLoad['0']!;
    const mean = load.reduce((x, y) => x + y, 0) / load.length;
    expect(load.reduce((x, y) => x + y, 0)).toBe(4 * 8 * 2);
    expect([...bias.dataSync()]).toEqual(load.map((l) => 0.125 * Math.sign(mean - l)));
  });

  it('activation recomputation gives the same gradients', () => {
    const model = new TinyMoeLm({ ...small, mtp: true }, 11);
    const batch = {
      tokens: concat(cyclicCorpus({ vocabSize: 16, seqLen: 9, count: 2 })),
      batchSize: 2,
      seqLen: 9,
    };
    const run = (recompute: boolean) =>
      microBatchGradients({
        model,
        batch,
        params: trainable(model),
        balanceAlpha: 0.01,
        mtpLambda: 0.3,
        recompute,
        rng: undefined as never,
      });
    const before = tf.memory().numTensors;
    const plain = run(false);
    const recomputed = run(true);
    expect(recomputed.loss).toBeCloseTo(plain.loss, 6);
    expect(plain.mtpLoss).toBeGreaterThan(0);
    for (const [name, g] of plain.grads) {
      const diff = tf.tidy(
        () => tf.max(tf.abs(tf.sub(g, recomputed.grads.get(name)!))).dataSync()[0]!,
      );
      expect(diff).toBeLessThan(1e-6);
    }
    tf.dispose([...plain.grads.values(), ...recomputed.grads.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skips a step whose loss is not finite: weights, biases and optimizer untouched', async () => {
    const inner = new TinyMoeLm(small, 13);
    let poison = false;
    let poisonGrad = false;
    const nanGradient = tf.customGrad(((x: tf.Tensor) => ({
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, Number.NaN),
    })) as never) as (x: tf.Tensor) => tf.Tensor;
    const model: TrainableModel = {
      namedWeights: () => inner.namedWeights(),
      forward: (tokens, o) => {
        const out = inner.forward(tokens, o);
        if (poison) return { ...out, logits: tf.mul(out.logits, Number.NaN) };
        return poisonGrad ? { ...out, logits: nanGradient(out.logits) } : out;
      },
    };
    const t = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 8, batchSize: 2 }),
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 5,
      progress: false,
      checkpoint: { dir: join(dir, 'nan', 'ckpt'), every: 100 },
    });
    await t.trainStep();
    const before = snapshot(model);
    poison = true;
    const m = (await t.trainStep())!;
    poison = false;
    expect(m.skipped).toBe(true);
    expect(snapshot(model)).toEqual(before);
    expect(t.optimizer.step).toBe(1);
    expect(t.currentStep).toBe(2);
    // A finite loss with a non-finite gradient is skipped too.
    poisonGrad = true;
    const g = (await t.trainStep())!;
    poisonGrad = false;
    expect(g.skipped).toBe(true);
    expect(Number.isFinite(g.loss)).toBe(true);
    expect(snapshot(model)).toEqual(before);
    const after = (await t.trainStep())!;
    expect(after.skipped).toBe(false);
    const path = await t.saveCheckpoint();
    const state = (await readCheckpoint(path)).state;
    expect(state.skippedSteps).toBe(2);
    expect(state.optimizerStep).toBe(2);
    // A NaN that got into the weights some other way never reaches a checkpoint.
    const w = inner.namedWeights().get('lm_head.weight')!;
    w.assign(tf.fill(w.shape, Number.NaN));
    await expect(t.saveCheckpoint()).rejects.toMatchObject({
      code: 'NON_FINITE_WEIGHTS',
      context: { tensor: 'lm_head.weight' },
    });
    expect((await listCheckpoints(join(dir, 'nan', 'ckpt'))).map((c) => c.step)).toEqual([4]);
  });

  it('fit logs a skipped step to the metrics file and a warning, and reports progress with loss, lr, tok/s and ETA', async () => {
    const inner = new TinyMoeLm(small, 19);
    let calls = 0;
    const model: TrainableModel = {
      namedWeights: () => inner.namedWeights(),
      forward: (tokens, o) => {
        const out = inner.forward(tokens, o);
        calls += o.training ? 1 : 0;
        return calls === 2 ? { ...out, logits: tf.mul(out.logits, Number.POSITIVE_INFINITY) } : out;
      },
    };
    const chunks: string[] = [];
    const stream = { write: (c: string) => chunks.push(c) } as unknown as NodeJS.WritableStream;
    const logLines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      format: 'json',
      stream: { write: (c: string) => logLines.push(c) } as unknown as NodeJS.WritableStream,
    });
    const metricsFile = join(dir, 'progress', 'metrics.jsonl');
    const trainer = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 8, batchSize: 2 }),
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 3,
      metricsFile,
      logger,
      progress: { stream, mode: 'json' },
    });
    const summary = await trainer.fit();
    expect(summary).toMatchObject({ steps: 3, skippedSteps: 1, reason: 'max-steps' });
    const records = (await readFile(metricsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.skipped)).toEqual([false, true, false]);
    expect(records[1].loss).toMatch(/NaN|Infinity/);
    expect(logLines.join('')).toContain('step 2: non-finite loss; update skipped');
    const progress = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = progress.at(-1);
    expect(last).toMatchObject({ progress: 'train', final: true, current: 3, total: 3 });
    expect(Object.keys(last.fields).sort()).toEqual(['loss', 'lr', 'tok/s']);
    expect(progress.some((p) => typeof p.etaSeconds === 'number')).toBe(true);
  });

  it('validates, stops early, keeps the last K plus the best checkpoint and reports to the tracker', async () => {
    const calls: {
      params: Record<string, unknown>[];
      metrics: [Record<string, number>, number | undefined][];
      artifacts: [string, string | undefined][];
      registered: string[];
    } = {
      params: [],
      metrics: [],
      artifacts: [],
      registered: [],
    };
    const tracker: Tracker = {
      logParams: (p) => void calls.params.push(p),
      logMetrics: (m, o) => void calls.metrics.push([m, o?.step]),
      setTags: () => {},
      logArtifact: async (p, a) => void calls.artifacts.push([p, a]),
      registerModel: async (name) => {
        calls.registered.push(name);
        return { name, version: '1' };
      },
    };
    const ckptDir = join(dir, 'early');
    const metricsFile = join(ckptDir, 'metrics.jsonl');
    const model = new TinyMoeLm(small, 17);
    const trainer = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 8, batchSize: 2, shuffleSeed: 1 }),
      validation: {
        data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 4, batchSize: 2 }),
        every: 2,
        maxBatches: 2,
      },
      earlyStopping: { patience: 2 },
      // The rate decays linearly to 0 at step 4, so validation cannot improve after that.
      schedule: { kind: 'linear', peakLr: 0.08, warmupSteps: 0, totalSteps: 4, minLr: 0 },
      maxSteps: 40,
      checkpoint: { dir: ckptDir, every: 1, keepLast: 2 },
      metricsFile,
      tracker,
      registerModelName: 'tiny',
      progress: false,
    });
    const summary = await trainer.fit();
    expect(summary.reason).toBe('early-stopping');
    expect(summary.bestStep).toBe(4);
    expect(summary.steps).toBe(8);
    expect((await listCheckpoints(ckptDir)).map((c) => c.step)).toEqual([4, 7, 8]);
    const lines = (await readFile(metricsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const evals = lines.filter((l) => l.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([2, 4, 6, 8]);
    for (const e of evals) expect(e.perplexity).toBeCloseTo(Math.exp(e.valLoss), 6);
    expect(lines.filter((l) => l.type === 'train')).toHaveLength(8);
    expect(lines[0].expertLoad['0']).toHaveLength(4);
    expect(calls.params[0]).toMatchObject({
      max_steps: 40,
      model: 'tiny-moe-lm',
      schedule_kind: 'linear',
    });
    expect(calls.metrics.filter(([m]) => 'loss' in m).map(([, s]) => s)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect(calls.metrics.some(([m]) => 'val_perplexity' in m && 'val_loss' in m)).toBe(true);
    expect(calls.metrics[0]![0]).toHaveProperty('moe_layer0_max_load_ratio');
    const logged = calls.artifacts.map(([p, a]) => `${a ?? ''}:${p.split(/[\\/]/).at(-1)}`);
    expect(logged).toContain('checkpoints:step-00000008');
    expect(logged).toContain('plots:loss.svg');
    expect(logged).toContain(':model');
    expect(logged).toContain('metrics:metrics.jsonl');
    expect(calls.registered).toEqual(['tiny']);
    expect(await readFile(join(ckptDir, 'loss.svg'), 'utf8')).toContain('<path d="M');
  });
});

function concat(seqs: Int32Array[]): Int32Array {
  const out = new Int32Array(seqs.reduce((a, s) => a + s.length, 0));
  let o = 0;
  for (const s of seqs) {
    out.set(s, o);
    o += s.length;
  }
  return out;
}

function trainable(m: TrainableModel) {
  return new Map([...m.namedWeights()].filter(([, v]) => v.trainable));
}
