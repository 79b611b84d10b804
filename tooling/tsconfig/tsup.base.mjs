// The build every publishable package shares: ESM + CJS + d.ts for Node 20, with
// import.meta/__dirname shims so both formats can locate files beside them.
export const tsupBase = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  shims: true,
  target: 'node20',
};
