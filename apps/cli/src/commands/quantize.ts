import { copyFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend, parseBackendChoice, readSafetensors, toInt32 } from '@deepline/core';
import {
  type ActivationQuant,
  QuantizerError,
  SCHEME_NAMES,
  loadQuantizedModel,
  parseScheme,
  quantizeModel,
  saveQuantizedModel,
} from '@deepline/quantizer';
import { type Command, UsageError, parseFlags } from '../command.js';

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'Quantize a DeepSeek HF model to packed int8/int4 (RTN or GPTQ) safetensors',
  usage:
    'deepline quantize --model <dir> --scheme int8|int4-g32|int4-g64|int4-g128[-asym]|gptq-int4-g32[-asym]|… --out <dir> ' +
    '[--calibration <tokens.json|tokens.safetensors>] [--activation none|int8] [--embeddings float32|int8] [--keep <glob>[,<glob>…]] [--backend wasm|cpu|…] [--json]',
  async run({ argv, stdout }) {
    const { values } = parseFlags(argv, {
      model: { type: 'string' },
      scheme: { type: 'string' },
      out: { type: 'string' },
      calibration: { type: 'string' },
      activation: { type: 'string' },
      embeddings: { type: 'string' },
      keep: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.model || !values.scheme || !values.out) throw new UsageError('--model, --scheme and --out are required');
    if (!(SCHEME_NAMES as readonly string[]).includes(values.scheme)) {
      throw new UsageError(`--scheme must be one of ${SCHEME_NAMES.join(', ')}; got '${values.scheme}'`);
    }
    const scheme = parseScheme(values.scheme);
    const activation = (values.activation ?? 'none') as ActivationQuant;
    if (activation !== 'none' && activation !== 'int8') throw new UsageError(`--activation must be none or int8, got '${values.activation}'`);
    const embeddings = (values.embeddings ?? 'float32') as 'float32' | 'int8';
    if (embeddings !== 'float32' && embeddings !== 'int8') throw new UsageError(`--embeddings must be float32 or int8, got '${values.embeddings}'`);
    if (scheme.method === 'gptq' && !values.calibration) throw new UsageError(`--scheme ${scheme.name} needs --calibration <token file>`);
    await initBackend({ backend: values.backend === undefined ? 'auto' : parseBackendChoice(values.backend, '--backend') });
    const calibration = values.calibration ? await readCalibration(values.calibration) : undefined;
    const rules = (values.keep ?? '')
      .split(',')
      .filter((p) => p.length > 0)
      .map((pattern) => ({ pattern, scheme: 'float' as const }));
    const model = await loadQuantizedModel(values.model);
    try {
      const result = quantizeModel({ model, scheme, rules, calibration, activation });
      const saved = await saveQuantizedModel({ model, dir: values.out, scheme: scheme.name, embeddings });
      for (const extra of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
        await copyFile(join(values.model, extra), join(values.out, extra)).catch(() => undefined);
      }
      const sourceBytes = await modelBytes(values.model);
      const summary = {
        scheme: scheme.name,
        quantized: result.quantized.length,
        gptq: result.quantized.filter((q) => q.method === 'gptq').length,
        keptFloat: result.kept.map((k) => k.name),
        bytes: saved.bytes,
        sourceBytes,
        sizeRatio: sourceBytes > 0 ? saved.bytes / sourceBytes : undefined,
        out: values.out,
      };
      if (values.json) stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        stdout.write(
          `quantized ${summary.quantized} weights with ${scheme.name}` +
            `${summary.gptq ? ` (${summary.gptq} by GPTQ)` : ''}, kept ${summary.keptFloat.length} in float32\n` +
            `wrote ${values.out}: ${formatBytes(saved.bytes)} (${summary.sizeRatio === undefined ? '?' : summary.sizeRatio.toFixed(3)}× the source ${formatBytes(sourceBytes)})\n`,
        );
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};

/** Calibration tokens: a JSON array of ids (or of id arrays), or a safetensors integer `tokens` [B, S]. */
async function readCalibration(path: string): Promise<number[][]> {
  if (path.endsWith('.safetensors')) {
    const t = (await readSafetensors(path)).tensors.get('tokens');
    if (t?.shape.length !== 2 || !t) {
      throw new QuantizerError(`${path}: needs an integer tensor 'tokens' [B, S]`, { code: 'CALIBRATION_FILE', context: { file: path } });
    }
    const ids = Array.from(toInt32(t, 'tokens'));
    const [b, s] = t.shape as [number, number];
    return Array.from({ length: b }, (_, i) => ids.slice(i * s, (i + 1) * s));
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new QuantizerError(`${path}: cannot read calibration tokens (${(cause as Error).message})`, { code: 'CALIBRATION_FILE', context: { file: path } });
  }
  const rows = Array.isArray(json) && json.every((x) => typeof x === 'number') ? [json as number[]] : json;
  if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.every((x) => Number.isInteger(x) && x >= 0))) {
    throw new QuantizerError(`${path}: expected a JSON array of token ids or of token-id arrays`, { code: 'CALIBRATION_FILE', context: { file: path } });
  }
  return rows as number[][];
}

async function modelBytes(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let total = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.safetensors')) total += (await stat(join(dir, f))).size;
  return total;
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
