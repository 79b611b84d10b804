import { describe, expect, it } from 'vitest';
import { loadPipelineConfig, parsePipelineConfig } from './config.js';
import { PipelineError } from './errors.js';

describe('pipeline config', () => {
  it('fills every default from an empty document', () => {
    const config = parsePipelineConfig('{}');
    expect(config.data.inputs).toBe('sotu');
    expect(config.train).toMatchObject({ steps: 800, batchSize: 8, seqLen: 128 });
    expect(config.quantize).toEqual({ schemes: ['int8', 'int4-g32'], embeddings: 'int8' });
  });

  it('names the field path of typos and bad values, nested ones included', () => {
    expect(() => parsePipelineConfig('train:\n  stepz: 3\n', 'p.yaml')).toThrow(/p\.yaml:\n.*train.*stepz/s);
    expect(() => parsePipelineConfig('export:\n  gguf: [q5_k]\n', 'p.yaml')).toThrow(/export\.gguf\.0/);
  });

  it('rejects an unknown preset, naming the choices', async () => {
    const error = await loadPipelineConfig({ preset: 'huge' }).catch((e) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.message).toBe("--preset must be one of default, smoke; got 'huge'");
    expect((await loadPipelineConfig({ preset: 'smoke' })).train.steps).toBe(12);
  });
});
