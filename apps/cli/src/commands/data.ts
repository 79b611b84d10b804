import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadYamlConfig, validateConfig } from '@deepline/core';
import {
  ByteTokenizer,
  DataReport,
  type DataRunConfig,
  type Document,
  MANIFEST_FILE,
  type TextTokenizer,
  WordNet,
  augmentDocuments,
  cleanAndDedup,
  computeStats,
  dataRunConfigSchema,
  readDocuments,
  readManifest,
  writeJsonl,
  writeShards,
} from '@deepline/data';
import { type Command, UsageError, parseFlags } from '../command.js';

const SUBCOMMANDS = ['clean', 'dedup', 'augment', 'shard', 'stats'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

export const dataCommand: Command = {
  name: 'data',
  summary: 'Clean, deduplicate, augment, shard (Arrow token shards) or describe a text corpus',
  usage: [
    'deepline data <clean|dedup|augment|shard|stats> [inputs…] [--config data.yaml] [--out PATH] [--report report.json]',
    '       [--format auto|text|jsonl|csv|tsv|parquet|arrow] [--field text] [--workers N] [--tokenizer byte|tokenizer.json] [--json]',
    '  clean   default cleaning chain (FineWeb-style) → JSONL      dedup  exact + MinHash-LSH → JSONL',
    '  augment EDA (WordNet synonyms, swap, deletion) → JSONL      shard  tokenise → Arrow shards + manifest.json in --out',
    '  stats   counts for inputs, or the manifest of a shard directory',
  ].join('\n'),
  async run({ argv, stdout, stderr }) {
    const [sub, ...rest] = argv;
    if (!sub || !SUBCOMMANDS.includes(sub as Sub))
      throw new UsageError(`expected one of ${SUBCOMMANDS.join('|')}, got '${sub ?? ''}'`);
    const { values, positionals } = parseFlags(rest, {
      config: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      format: { type: 'string' },
      field: { type: 'string' },
      workers: { type: 'string' },
      tokenizer: { type: 'string' },
      json: { type: 'boolean' },
    });
    const config = await loadConfig(values, positionals);
    if (
      sub === 'stats' &&
      positionals.length === 1 &&
      existsSync(join(positionals[0]!, MANIFEST_FILE))
    ) {
      const manifest = await readManifest(positionals[0]!);
      stdout.write(
        values.json ? `${JSON.stringify(manifest, null, 2)}\n` : formatManifest(manifest),
      );
      return 0;
    }
    if (config.input.paths.length === 0)
      throw new UsageError('no inputs: give paths/globs or input.paths in --config');
    const report = new DataReport();
    const documents = readDocuments({ ...config.input, inputs: config.input.paths, report });
    const tokenizer =
      sub === 'shard' || sub === 'stats'
        ? await loadTokenizer(config.shard.tokenizer, sub === 'stats' && !values.tokenizer)
        : undefined;
    if (sub === 'stats') {
      const stats = await computeStats({ documents, tokenizer });
      const json = { ...stats, corrupt: report.toJSON().corrupt };
      stdout.write(
        values.json
          ? `${JSON.stringify(json, null, 2)}\n`
          : `${JSON.stringify(stats)}\n${report.summary()}\n`,
      );
      return 0;
    }
    const out = config.output.path;
    if (!out) throw new UsageError('--out (or output.path in the config) is required');
    const workers = config.workers;
    let result: string;
    if (sub === 'clean' || sub === 'dedup') {
      // Native text kernels when @deepline/kernels-native's addon is built: the same output, faster.
      const { registerNativeTextKernels } = await import('@deepline/kernels-native');
      registerNativeTextKernels();
      const stream = cleanAndDedup({
        documents,
        clean: sub === 'clean' ? config.clean : false,
        dedup: sub === 'dedup' ? config.dedup : false,
        workers,
        report,
      });
      result = `wrote ${await writeJsonl({ documents: stream, path: out })} documents to ${out}`;
    } else if (sub === 'augment') {
      const wordnet = config.augment.synonymRate > 0 ? WordNet.open() : undefined;
      try {
        const stream = augmentDocuments({ documents, ...config.augment, wordnet });
        result = `wrote ${await writeJsonl({ documents: stream, path: out })} documents to ${out}`;
      } finally {
        wordnet?.close();
      }
    } else {
      const { tokenizer: _spec, ...shardOptions } = config.shard;
      const manifest = await writeShards({
        documents: counted(documents, report),
        tokenizer: tokenizer!,
        outDir: out,
        ...shardOptions,
        report,
      });
      result = `wrote ${formatManifest(manifest).trimEnd()}`;
    }
    const reportPath =
      config.output.report ?? `${out.replace(/\/$/, '')}${sub === 'shard' ? '/' : '.'}report.json`;
    await mkdir(dirname(reportPath), { recursive: true });
    await writeFile(reportPath, `${JSON.stringify(report.toJSON(), null, 2)}\n`);
    stdout.write(
      values.json
        ? `${JSON.stringify(report.toJSON(), null, 2)}\n`
        : `${report.summary()}\n${result}\nreport: ${reportPath}\n`,
    );
    if (report.corruptCount > 0 && !values.json)
      stderr.write(`warning: ${report.corruptCount} corrupt record(s); see ${reportPath}\n`);
    return 0;
  },
};

async function loadConfig(
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
): Promise<DataRunConfig> {
  const overrides: Record<string, unknown> = {};
  const base = values.config
    ? await loadYamlConfig({ path: values.config as string, schema: dataRunConfigSchema })
    : validateConfig({ value: {}, schema: dataRunConfigSchema, source: 'defaults' });
  if (positionals.length > 0) overrides.input = { ...base.input, paths: positionals };
  if (values.format)
    overrides.input = { ...base.input, ...(overrides.input as object), format: values.format };
  if (values.field)
    overrides.input = { ...base.input, ...(overrides.input as object), textField: values.field };
  if (values.out || values.report)
    overrides.output = {
      ...base.output,
      ...(values.out ? { path: values.out } : {}),
      ...(values.report ? { report: values.report } : {}),
    };
  if (values.tokenizer) overrides.shard = { ...base.shard, tokenizer: values.tokenizer };
  if (values.workers !== undefined) {
    const n = Number(values.workers);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`--workers must be a non-negative integer, got '${values.workers}'`);
    overrides.workers = n;
  }
  return validateConfig({
    value: { ...base, ...overrides },
    schema: dataRunConfigSchema,
    source: (values.config as string) ?? 'flags',
  });
}

/** 'byte' → the built-in byte tokenizer; otherwise a tokenizer.json through @deepline/tokenizer. */
async function loadTokenizer(spec: string, optional: boolean): Promise<TextTokenizer | undefined> {
  if (optional) return undefined;
  if (spec === 'byte') return new ByteTokenizer();
  const { Tokenizer } = await import('@deepline/tokenizer');
  return Tokenizer.fromFile(spec);
}

async function* counted(
  documents: AsyncIterable<Document>,
  report: DataReport,
): AsyncGenerator<Document> {
  for await (const doc of documents) {
    report.addOutput(doc.text.length);
    yield doc;
  }
}

function formatManifest(manifest: Awaited<ReturnType<typeof readManifest>>): string {
  const lines = Object.entries(manifest.splits).map(
    ([name, s]) =>
      `  ${name}: ${s.documents} documents, ${s.tokens} tokens in ${s.shards.length} shard(s)`,
  );
  return `token shards (vocab ${manifest.tokenizer.vocabSize}, eos ${manifest.tokenizer.eosTokenId})\n${lines.join('\n')}\n`;
}
