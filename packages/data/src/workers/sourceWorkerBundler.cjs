// Used only when @deepline/data runs from its TypeScript sources (tests, --conditions=source):
// bundles pipelineWorker.ts with esbuild in a thread of its own. esbuild asks this thread to
// resolve each bare import; on the thread that cleans, every such round trip would wait for a
// batch to finish.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { dirname, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

const { esbuildPath, entry, importMetaUrl } = workerData;
const esbuild = require(esbuildPath);

/** Packages that resolve to JavaScript stay external, at their absolute paths (eval'd code has no directory to resolve from); workspace packages resolve to TypeScript sources and are bundled in. */
const absoluteExternals = {
  name: 'absolute-externals',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('node:') || args.pluginData?.inner) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: { inner: true },
      });
      if (resolved.errors.length > 0 || /\.[cm]?tsx?$/.test(resolved.path)) return undefined;
      // import() needs a URL; require() a path.
      const path =
        args.kind === 'dynamic-import' ? pathToFileURL(resolved.path).href : resolved.path;
      return { path, external: true };
    });
  },
};

esbuild
  .build({
    entryPoints: [entry],
    absWorkingDir: dirname(entry),
    metafile: true,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['source'],
    // A CommonJS bundle has no import.meta: modules that locate files from it (the language
    // model, WordNet) get the worker pool's URL, which resolves packages from the same place.
    define: { 'import.meta.url': JSON.stringify(importMetaUrl) },
    logLevel: 'silent',
    plugins: [absoluteExternals],
  })
  .then(
    (result) => ({
      code: result.outputFiles[0].text,
      // Every bundled file (metafile paths are relative to absWorkingDir), for the cache's check.
      inputs: Object.keys(result.metafile.inputs).map((path) => resolve(dirname(entry), path)),
    }),
    (error) => ({ error: String(error?.message ?? error) }),
  )
  .then((message) => {
    // Ends esbuild's service process, so this thread exits once the message is out.
    esbuild.stop?.();
    parentPort.postMessage(message);
  });
