import { afterEach, describe, expect, it } from 'vitest';
import { registerTextKernels, textKernelProvider, unregisterTextKernels } from './textKernels.js';

afterEach(() => unregisterTextKernels());

describe('text kernel registry', () => {
  it('holds one provider; unregistering another name leaves it in place', () => {
    expect(textKernelProvider()).toBeUndefined();
    const scan = () => 0;
    registerTextKernels({ name: 'a', module: '/abs/a.node', kernels: { scanWordsLatin1: scan } });
    expect(textKernelProvider()?.kernels.scanWordsLatin1).toBe(scan);
    registerTextKernels({ name: 'b', module: '/abs/b.node', kernels: {} });
    expect(textKernelProvider()?.name).toBe('b');
    unregisterTextKernels('a');
    expect(textKernelProvider()?.module).toBe('/abs/b.node');
    unregisterTextKernels('b');
    expect(textKernelProvider()).toBeUndefined();
  });
});
