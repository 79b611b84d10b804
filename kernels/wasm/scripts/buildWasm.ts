// Regenerates src/wasm/kernelBytes.generated.ts from the WAT sources (pnpm build:wasm).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileKernelModule } from '../src/wasm/compileWat.js';
import { renderKernelBytesModule } from '../src/wasm/renderKernelBytes.js';

const bytes = await compileKernelModule();
const fmaBytes = await compileKernelModule({ fma: true });
const target = fileURLToPath(new URL('../src/wasm/kernelBytes.generated.ts', import.meta.url));
await writeFile(target, renderKernelBytesModule(bytes, fmaBytes));
process.stdout.write(`wrote ${bytes.length} bytes of wasm to src/wasm/kernelBytes.generated.ts\n`);
