import { relative } from 'node:path';
import type { PublishedOutputs } from './publishOutputs.js';
import type { StageResult } from './stage.js';

export interface SummaryInput {
  results: Record<string, StageResult>;
  outputs: PublishedOutputs;
  tracking: { uri: string; experiment: string; runId: string };
  cwd: string;
  seconds: number;
}

const fmt = (v: number | undefined, digits = 2) =>
  v === undefined || Number.isNaN(v) ? '-' : Math.abs(v) >= 1e4 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
const mb = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(2)} MB`);

/** The table printed at the end of a pipeline run. */
export function formatSummary(input: SummaryInput): string {
  const m = (stage: string) => input.results[stage]?.metrics ?? {};
  const rel = (p: string) => relative(input.cwd, p) || '.';
  const data = m('data');
  const tok = m('tokenizer');
  const train = m('train');
  const evaluation = m('evaluate');
  const quant = (input.results.quantize?.outputs.report as Record<string, number & string>[] | undefined) ?? [];
  const rows: [string, string][] = [
    ['data', `${data.documents_in} documents read, ${data.documents_kept} kept, ${data.documents_dropped} dropped, ${data.corrupt_records} corrupt`],
    ['tokenizer', `vocab ${tok.vocab_size}, ${fmt(tok.heldout_bytes_per_token)} bytes/token held out`],
    ['model', `${fmt(train.params_total, 0)} parameters, ${fmt(train.params_activated, 0)} activated per token`],
    ['training', `${train.steps} steps, ${fmt(train.tokens_per_second, 0)} tokens/s, final train loss ${fmt(train.final_loss, 3)} (LM + MTP), best val loss ${fmt(train.best_val_loss, 3)} (ppl ${fmt(train.best_val_perplexity)})`],
    ['evaluation', `test perplexity ${fmt(evaluation.test_perplexity)}, decode ${fmt(evaluation.decode_tokens_per_second, 1)} tokens/s`],
    ...quant.map((q): [string, string] => [
      `  ${q.scheme}`,
      `${mb(q.bytes)} (${fmt(q.sizeRatio, 3)}× fp32), perplexity ${fmt(q.perplexity)}${q.deltaPerplexityPct === undefined ? '' : ` (${q.deltaPerplexityPct >= 0 ? '+' : ''}${fmt(q.deltaPerplexityPct)} %)`}, peak ${mb(q.peakBytes)}, decode ${fmt(q.decodeTokensPerSecond, 1)} tokens/s`,
    ]),
    ['outputs', rel(input.outputs.dir)],
    ['  HF model', rel(input.outputs.model)],
    ...Object.entries(input.outputs.quantized).map(([s, p]): [string, string] => [`  ${s}`, rel(p)]),
    ...Object.entries(input.outputs.gguf).map(([t, p]): [string, string] => [`  gguf ${t}`, rel(p)]),
    ['mlflow', `run ${input.tracking.runId} in experiment '${input.tracking.experiment}' at ${input.tracking.uri}`],
    ['serve', `deepline serve --model ${rel(Object.values(input.outputs.quantized).at(-1) ?? input.outputs.model)}`],
    ['time', `${input.seconds.toFixed(1)} s (${Object.values(input.results).filter((r) => r.cached).length} stages from cache)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${['deepline pipeline summary', ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)].join('\n')}\n`;
}
