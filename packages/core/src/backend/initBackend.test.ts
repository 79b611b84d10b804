import { describe, expect, it } from 'vitest';
import { CoreError } from '../errors.js';
import { tf } from '../tf.js';
import { initBackend, parseBackendChoice } from './initBackend.js';
import { probeBackend } from './backendProbes.js';

describe('backend resolution', () => {
  it('auto skips unavailable backends with one reason each and selects wasm here', async () => {
    const lines: string[] = [];
    const report = await initBackend({ backend: 'auto', logger: { info: (m) => lines.push(m) } });
    // This machine has no CUDA and no Vulkan GPU: wasm is the first that works.
    expect(report.selected).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.skipped.map((s) => s.name)).toEqual(['node-gpu', 'node', 'webgpu']);
    for (const s of report.skipped) expect(s.reason.length).toBeGreaterThan(10);
    expect(lines.filter((l) => l.includes('skipped'))).toHaveLength(3);
    expect(report.kernelPacks).toContain('@deepline/core:wasm-fixes');
  });

  it('activates cpu on request', async () => {
    const report = await initBackend({ backend: 'cpu' });
    expect(report.selected).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('gives an install hint when an unavailable backend is requested', async () => {
    const err = await initBackend({ backend: 'node-gpu' }).catch((e) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect(err.message).toMatch(/CUDA 11\.2 \+ cuDNN 8\.1/);
    expect(err.context.backend).toBe('node-gpu');
    const webgpu = await probeBackend('webgpu');
    expect(webgpu.available).toBe(false);
  });

  it('rejects unknown names, naming the field', () => {
    expect(() => parseBackendChoice('tpu', 'DEEPLINE_BACKEND')).toThrow(/DEEPLINE_BACKEND must be one of auto, node-gpu/);
    expect(parseBackendChoice(undefined)).toBe('auto');
  });
});
