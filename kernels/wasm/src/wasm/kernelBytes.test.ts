import { describe, expect, it } from 'vitest';
import { compileKernelModule } from './compileWat.js';
import { KERNEL_WASM_BASE64, KERNEL_WASM_FMA_BASE64 } from './kernelBytes.generated.js';
import { gemmWorkspaceBytes, GEMM_KC, GEMM_MC, GEMM_MR, GEMM_NR } from './gemmWat.js';
import { renderKernelBytesModule } from './renderKernelBytes.js';
import { WasmApi } from './wasmBackend.js';

/** Section ids of a wasm binary (walks the LEB128 section sizes after the 8-byte header). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++]!);
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[at++]!;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    at += size;
  }
  return ids;
}

describe('embedded kernel module', () => {
  it('is exactly what the WAT sources compile to (rebuild with pnpm build:wasm)', async () => {
    const rebuilt = await compileKernelModule();
    expect(Buffer.from(rebuilt).toString('base64')).toBe(KERNEL_WASM_BASE64);
    const rebuiltFma = await compileKernelModule({ fma: true });
    expect(Buffer.from(rebuiltFma).toString('base64')).toBe(KERNEL_WASM_FMA_BASE64);
    expect(KERNEL_WASM_FMA_BASE64).not.toBe(KERNEL_WASM_BASE64);
  });

  it('renders a module whose base64 round-trips to the same bytes', () => {
    const bytes = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 255]);
    const source = renderKernelBytesModule(bytes);
    const first = source.slice(0, source.indexOf('KERNEL_WASM_FMA_BASE64'));
    const joined = [...first.matchAll(/'([A-Za-z0-9+/=]+)',/g)].map((m) => m[1]).join('');
    expect(Buffer.from(joined, 'base64')).toEqual(Buffer.from(bytes));
  });

  it('imports only env.memory, has no data segments, and exports the kernels', () => {
    const api = WasmApi.Module as unknown as {
      imports(m: object): { module: string; name: string; kind: string }[];
      exports(m: object): { name: string }[];
    };
    const module = new WasmApi.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
    expect(api.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const exports = api.exports(module).map((e) => e.name);
    for (const name of ['gemm', 'gemmInt8', 'gemmInt4', 'gemvInt8', 'gemvInt4', 'dequantInt8', 'dequantInt4', 'rmsNormForward', 'softmaxRows', 'segmentSum', 'rope']) expect(exports).toContain(name);
    // No data section (id 11): instantiating cannot overwrite tfjs' heap.
    expect(sectionIds(Buffer.from(KERNEL_WASM_BASE64, 'base64'))).not.toContain(11);
  });

  it('sizes the GEMM workspace for padded panels', () => {
    expect(gemmWorkspaceBytes(1)).toBe(4 * (GEMM_KC * GEMM_NR + GEMM_MC * GEMM_KC + GEMM_MR * GEMM_NR) + 64);
    expect(gemmWorkspaceBytes(GEMM_NR + 1)).toBe(4 * (GEMM_KC * 2 * GEMM_NR + GEMM_MC * GEMM_KC + GEMM_MR * GEMM_NR) + 64);
  });
});
