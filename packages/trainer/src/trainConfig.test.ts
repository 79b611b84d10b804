import { join } from 'node:path';
import { DeeplineError } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from './trainConfig.js';

const valid = {
  model: { preset: 'tiny' },
  data: { dir: 'shards', seqLen: 16, batchSize: 2 },
  training: { maxSteps: 10 },
  schedule: { kind: 'cosine', peakLr: 1e-3, warmupSteps: 2 },
  output: { dir: 'runs/a', checkpointEvery: 5 },
  tracking: { uri: 'mlruns' },
};

function fieldOf(value: unknown): string | undefined {
  try {
    parseTrainConfig(value, '/base');
  } catch (error) {
    expect(error).toBeInstanceOf(DeeplineError);
    return (error as DeeplineError<{ field?: string }>).context.field;
  }
  return undefined;
}

describe('train.yaml schema', () => {
  it('applies defaults and resolves paths against the config directory', () => {
    const c = parseTrainConfig(valid, '/base');
    expect(c.data.dir).toBe(join('/base', 'shards'));
    expect(c.output.dir).toBe(join('/base', 'runs/a'));
    expect(c.tracking?.uri).toBe(join('/base', 'mlruns'));
    expect(c.training).toMatchObject({
      gradAccumulation: 1,
      clipNorm: 1,
      recompute: false,
      mtpLambda: 0.3,
    });
    expect(c.moe).toEqual({ balanceAlpha: 1e-4, biasGamma: 1e-3 });
    expect(c.schedule).toMatchObject({ kind: 'cosine', minLr: 0 });
    expect(
      parseTrainConfig({ ...valid, tracking: { uri: 'http://localhost:5000' } }, '/base').tracking
        ?.uri,
    ).toBe('http://localhost:5000');
  });

  it('errors name the field', () => {
    expect(fieldOf({ ...valid, data: { ...valid.data, batchSize: 0 } })).toBe('data.batchSize');
    expect(fieldOf({ ...valid, schedule: { kind: 'cosine', warmupSteps: 2 } })).toBe(
      'schedule.peakLr',
    );
    expect(fieldOf({ ...valid, schedule: { kind: 'exponential' } })).toBe('schedule.kind');
    expect(fieldOf({ ...valid, model: { preset: 'tiny', path: 'x' } })).toBe('model');
    expect(fieldOf({ ...valid, training: { maxSteps: 10, learningRate: 1 } })).toBe('training');
    expect(fieldOf({ ...valid, output: undefined })).toBe('output');
  });
});
