// Run as a script: trains the tiny fixture model on wasm and saves it (plus held-out and
// calibration tokens) into the directory given as the first argument.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '@deepline/core';
import { trainedTinyModel } from './fixtures.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: trainFixture.ts <dir>');
await initBackend({ backend: 'wasm' });
const { model, heldOut, train } = trainedTinyModel({ steps: Number(process.env.FIXTURE_STEPS ?? 50) });
await model.save(dir);
model.dispose();
await writeFile(join(dir, 'tokens.json'), JSON.stringify({ heldOut, calibration: train.slice(0, 2048) }));
