// pnpm bench [suite ...] [--quick] [--json out.json]
import { readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchRow, BenchSuite } from './benchSuite.js';
import { formatTable } from './formatTable.js';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { quick: { type: 'boolean' }, json: { type: 'string' } },
  allowPositionals: true,
});
const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const files = (await readdir(suitesDir)).filter((f) => f.endsWith('.bench.ts')).sort();
const wanted = positionals.length > 0 ? new Set(positionals) : undefined;
const results: Record<string, BenchRow[]> = {};
for (const file of files) {
  const suite = (await import(pathToFileURL(join(suitesDir, file)).href)).default as BenchSuite;
  if (wanted && !wanted.has(suite.name)) continue;
  process.stdout.write(`\n# ${suite.name}: ${suite.description}\n`);
  try {
    const rows = await suite.run({ quick: values.quick ?? false, log: (line) => process.stdout.write(`  ${line}\n`) });
    results[suite.name] = rows;
    process.stdout.write(formatTable(suite.name, rows));
  } catch (error) {
    process.stdout.write(`  suite ${suite.name} failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  }
}
if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
