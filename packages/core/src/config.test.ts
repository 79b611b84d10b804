import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadYamlConfig, parseYamlConfig } from './config.js';
import { CoreError } from './errors.js';

const schema = z.object({
  model: z.object({ layers: z.number().int().positive(), heads: z.number().int().default(4) }),
  lr: z.number().positive(),
});

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeDir(dir));

describe('YAML config loading', () => {
  it('parses, applies defaults and overrides', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, 'model:\n  layers: 2\nlr: 0.001\n');
    expect(await loadYamlConfig({ path, schema, overrides: { lr: 0.5 } })).toEqual({ model: { layers: 2, heads: 4 }, lr: 0.5 });
  });

  it('names the file and every failing field path', () => {
    try {
      parseYamlConfig({ text: 'model:\n  layers: -1\nlr: fast\n', schema, source: 'train.yaml' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CoreError);
      const e = error as CoreError;
      expect(e.message).toContain('train.yaml');
      expect(e.message).toContain('model.layers');
      expect(e.message).toContain('lr');
      expect(e.context.field).toBe('model.layers');
    }
  });

  it('reports YAML syntax errors with the line', () => {
    expect(() => parseYamlConfig({ text: 'a: 1\nb: [1, 2\nc: 3\n', schema, source: 'bad.yaml' })).toThrow(/bad\.yaml at line \d/);
  });

  it('reports a missing file by path', async () => {
    await expect(loadYamlConfig({ path: join(dir, 'missing.yaml'), schema })).rejects.toThrow(/missing\.yaml/);
  });
});
