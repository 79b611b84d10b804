import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readmeExample } from './readme.example.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('README example', () => {
  it('is quoted verbatim in README.md', () => {
    const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
    const example = readFileSync(join(here, 'readme.example.ts'), 'utf8').trim();
    expect(readme).toContain(example);
  });

  it('runs and produces the documented shapes', async () => {
    const result = await readmeExample();
    expect(result.logitsShape).toEqual([1, 4, 512]);
    expect(result.decodedShape).toEqual([1, 1, 512]);
    expect(result.activated).toBeGreaterThan(0);
  });
});
