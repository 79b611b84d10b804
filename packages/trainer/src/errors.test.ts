import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend, readSafetensors, tf } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayBatchSource } from './batchSource.js';
import { readCheckpoint } from './checkpoint.js';
import { TrainerError } from './errors.js';
import { microBatchGradients } from './microBatch.js';
import { cyclicSource } from './testing/fixtures.js';
import { TinyMoeLm } from './testing/tinyMoeLm.js';
import { Trainer } from './trainer.js';

const small = { vocabSize: 16, dim: 8, nExperts: 4, topK: 2 };
let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  dir = await makeTempDir('trainer-errors-');
});
afterAll(async () => {
  await removeDir(dir);
});

async function expectTrainerError(run: () => unknown, code: string, field?: string): Promise<void> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(TrainerError);
    expect((error as TrainerError).code).toBe(code);
    if (field !== undefined)
      expect((error as TrainerError).context.field ?? (error as TrainerError).context.tensor).toBe(
        field,
      );
    return;
  }
  expect.unreachable(`expected TrainerError ${code}`);
}

describe('checkpoint contents', () => {
  it('hold HF-named weights with gate biases, AdamW moments and step, RNG, data position, schedule and best loss', async () => {
    const model = new TinyMoeLm(small, 2);
    const trainer = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 8, batchSize: 2, shuffleSeed: 4 }),
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 5,
      progress: false,
      seed: 9,
    });
    await trainer.trainStep();
    await trainer.trainStep();
    const path = await trainer.saveCheckpoint({ dir: join(dir, 'contents') });
    const weights = await readSafetensors(join(path, 'model', 'model.safetensors'));
    expect([...weights.tensors.keys()].sort()).toEqual([...model.namedWeights().keys()].sort());
    expect(weights.tensors.get('model.layers.0.mlp.gate.e_score_correction_bias')!.shape).toEqual([
      4,
    ]);
    const optimizer = await readSafetensors(join(path, 'optimizer.safetensors'));
    expect(optimizer.metadata.step).toBe('2');
    expect(optimizer.tensors.has('m.lm_head.weight')).toBe(true);
    expect(optimizer.tensors.has('v.model.norm.weight')).toBe(true);
    expect(optimizer.tensors.has('m.model.layers.0.mlp.gate.e_score_correction_bias')).toBe(false);
    const state = JSON.parse(await readFile(join(path, 'trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({
      step: 2,
      optimizerStep: 2,
      data: { epoch: 0, cursor: 4 },
      schedule: { config: { kind: 'constant', lr: 0.01 }, lr: 0.01 },
      gateBiases: ['model.layers.0.mlp.gate.e_score_correction_bias'],
      bestValLoss: null,
      bestStep: null,
    });
    expect(state.rng.s).toHaveLength(4);
    model.dispose();
  });
});

describe('checkpoint rewrite', () => {
  it('saving the same step again replaces it atomically and leaves no temp directories', async () => {
    const model = new TinyMoeLm(small, 6);
    const trainer = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 8, batchSize: 2 }),
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 5,
      progress: false,
    });
    await trainer.trainStep();
    const target = join(dir, 'rewrite');
    const first = await trainer.saveCheckpoint({ dir: target });
    const w = model.namedWeights().get('lm_head.weight')!;
    w.assign(tf.mul(w, 2));
    const second = await trainer.saveCheckpoint({ dir: target });
    expect(second).toBe(first);
    const saved = (await readCheckpoint(second)).weights.get('lm_head.weight')!;
    expect(new Float32Array(saved.bytes.slice().buffer)).toEqual(w.dataSync());
    expect((await readdir(target)).sort()).toEqual(['step-00000001']);
    model.dispose();
  });
});

describe('bad input', () => {
  it('names the bad option', async () => {
    const model = new TinyMoeLm(small, 2);
    const data = cyclicSource({ vocabSize: 16, seqLen: 9, count: 4, batchSize: 2 });
    const base = {
      model,
      data,
      schedule: { kind: 'constant' as const, lr: 0.01 },
      maxSteps: 2,
      progress: false as const,
    };
    await expectTrainerError(
      () => new Trainer({ ...base, gradAccumulation: 0 }),
      'OPTION_INVALID',
      'gradAccumulation',
    );
    await expectTrainerError(
      () => new Trainer({ ...base, clipNorm: -1 }),
      'OPTION_INVALID',
      'clipNorm',
    );
    await expectTrainerError(
      () => new Trainer({ ...base, validation: { data, every: 0 } }),
      'OPTION_INVALID',
      'validation.every',
    );
    await expectTrainerError(
      () => new Trainer({ ...base, moe: { biasGamma: Number.NaN } }),
      'OPTION_INVALID',
      'moe.biasGamma',
    );
    await expectTrainerError(
      () =>
        new Trainer({
          ...base,
          schedule: { kind: 'cosine', peakLr: 1, warmupSteps: 0, totalSteps: 0, minLr: 0 },
        }),
      'OPTION_INVALID',
      'schedule.totalSteps',
    );
    await expectTrainerError(() => new Trainer(base).evaluate(), 'NO_VALIDATION', 'validation');
    await expectTrainerError(
      () => new Trainer(base).saveCheckpoint(),
      'NO_CHECKPOINT_DIR',
      'checkpoint.dir',
    );
    const frozen = {
      namedWeights: () => new Map([['w', tf.variable(tf.zeros([2]), false)]]),
      forward: model.forward.bind(model),
    };
    await expectTrainerError(() => new Trainer({ ...base, model: frozen }), 'NO_PARAMS', 'model');
    model.dispose();
  });

  it('rejects malformed batches and data', async () => {
    const model = new TinyMoeLm(small, 2);
    const params = new Map([...model.namedWeights()].filter(([, v]) => v.trainable));
    const opts = {
      model,
      params,
      balanceAlpha: 0,
      mtpLambda: 0,
      recompute: false,
      rng: undefined as never,
    };
    await expectTrainerError(
      () =>
        microBatchGradients({
          ...opts,
          batch: { tokens: new Int32Array(7), batchSize: 2, seqLen: 4 },
        }),
      'DATA_SHAPE',
      'tokens',
    );
    await expectTrainerError(
      () =>
        microBatchGradients({
          ...opts,
          batch: { tokens: new Int32Array(2), batchSize: 2, seqLen: 1 },
        }),
      'SEQUENCE_SHORT',
      'seqLen',
    );
    await expectTrainerError(
      () =>
        new ArrayBatchSource({ sequences: [new Int32Array(4), new Int32Array(5)], batchSize: 1 }),
      'DATA_SHAPE',
      'sequences[1]',
    );
    await expectTrainerError(
      () => new ArrayBatchSource({ sequences: [new Int32Array(4)], batchSize: 2 }),
      'DATA_TOO_SMALL',
      'sequences',
    );
    const source = new ArrayBatchSource({
      sequences: [new Int32Array(4), new Int32Array(4)],
      batchSize: 1,
    });
    await expectTrainerError(
      () => source.restore({ epoch: 0, cursor: 0, order: [0] }),
      'DATA_STATE',
      'data',
    );
    model.dispose();
  });

  it('rejects incomplete, corrupt and mismatched checkpoints', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await expectTrainerError(() => readCheckpoint(empty), 'CHECKPOINT_INCOMPLETE');
    const model = new TinyMoeLm(small, 2);
    const trainer = new Trainer({
      model,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 4, batchSize: 2 }),
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 2,
      progress: false,
    });
    const path = await trainer.saveCheckpoint({ dir: join(dir, 'mismatch') });
    const wider = new TinyMoeLm({ ...small, dim: 12 }, 2);
    const other = new Trainer({
      model: wider,
      data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 4, batchSize: 2 }),
      schedule: { kind: 'constant', lr: 0.01 },
      maxSteps: 2,
      progress: false,
    });
    await expectTrainerError(
      () => other.resume(path),
      'CHECKPOINT_MISMATCH',
      'model.embed_tokens.weight',
    );
    await writeFile(join(path, 'trainer_state.json'), '{ not json');
    await expectTrainerError(() => readCheckpoint(path), 'CHECKPOINT_INVALID');
    await writeFile(
      join(path, 'trainer_state.json'),
      JSON.stringify({ format: 'something-else', version: 1 }),
    );
    await expectTrainerError(() => readCheckpoint(path), 'CHECKPOINT_INVALID', 'format');
    model.dispose();
    wider.dispose();
  });
});
