import { initBackend, parseBackendChoice, readSafetensors, tf, toInt32, writeSafetensors } from '@deepline/core';
import { type AttentionImpl, DeepseekModel, LayersError } from '@deepline/layers';
import { type Command, UsageError, parseFlags } from '../command.js';

export const logitsCommand: Command = {
  name: 'logits',
  summary: 'Write the logits of a DeepSeek HF model for given tokens (to compare implementations)',
  usage:
    'deepline logits --model <hf dir> --tokens <in.safetensors> --out <out.safetensors> [--decode P] [--attention absorb|naive] [--backend auto|wasm|cpu|...]',
  async run({ argv, stdout }) {
    const { values } = parseFlags(argv, {
      model: { type: 'string' },
      tokens: { type: 'string' },
      out: { type: 'string' },
      decode: { type: 'string' },
      attention: { type: 'string' },
      backend: { type: 'string' },
    });
    if (!values.model || !values.tokens || !values.out) throw new UsageError('--model, --tokens and --out are required');
    const attention = (values.attention ?? 'absorb') as AttentionImpl;
    if (attention !== 'absorb' && attention !== 'naive') throw new UsageError(`--attention must be absorb or naive, got '${values.attention}'`);
    const prefill = values.decode === undefined ? undefined : Number(values.decode);
    if (prefill !== undefined && (!Number.isInteger(prefill) || prefill < 1)) throw new UsageError(`--decode must be a positive integer, got '${values.decode}'`);
    await initBackend({ backend: values.backend === undefined ? undefined : parseBackendChoice(values.backend, '--backend') });
    const { ids, shape } = await readTokens(values.tokens);
    if (prefill !== undefined && prefill > shape[1]) {
      throw new UsageError(`--decode ${prefill} exceeds the sequence length ${shape[1]} of ${values.tokens}`);
    }
    const model = await DeepseekModel.load(values.model, { attention });
    try {
      const tokens = tf.tensor2d(ids, shape, 'int32');
      const out = model.forward(tokens);
      const result: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {
        logits: { dtype: 'F32', shape: out.logits.shape, data: out.logits.dataSync() as Float32Array },
      };
      tf.dispose([out.logits]);
      if (prefill !== undefined) result.decode_logits = decodeLogits(model, tokens, prefill);
      tokens.dispose();
      await writeSafetensors(values.out, result);
      stdout.write(`wrote ${Object.keys(result).join(', ')} [${result.logits.shape.join(', ')}] to ${values.out}\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};

/** Reads the int32/int64 `tokens` [B, S] tensor of a safetensors file. */
async function readTokens(path: string): Promise<{ ids: Int32Array; shape: [number, number] }> {
  const { tensors } = await readSafetensors(path);
  const raw = tensors.get('tokens');
  if (!raw) {
    throw new LayersError(`${path}: no tensor named 'tokens' (found: ${[...tensors.keys()].join(', ') || 'none'})`, {
      code: 'TOKENS_FILE',
      context: { file: path, tensor: 'tokens' },
    });
  }
  if (raw.shape.length !== 2 || raw.shape[0] === 0 || raw.shape[1] === 0) {
    throw new LayersError(`${path}: 'tokens' must be [B, S] with B, S > 0, got [${raw.shape.join(', ')}]`, {
      code: 'TOKENS_FILE',
      context: { file: path, tensor: 'tokens', actualShape: raw.shape },
    });
  }
  if (!['I64', 'I32', 'I16', 'U16', 'U8', 'U32'].includes(raw.dtype)) {
    throw new LayersError(`${path}: 'tokens' must be an integer tensor (I64/I32), got ${raw.dtype}`, {
      code: 'TOKENS_FILE',
      context: { file: path, tensor: 'tokens' },
    });
  }
  return { ids: toInt32(raw, 'tokens'), shape: [raw.shape[0]!, raw.shape[1]!] };
}

/**
 * The golden's decode layout `[1 + S - P, B, V]`: step 0 is the last position of a prefill of
 * P tokens, step j > 0 feeds token P+j-1 alone at position P+j-1 through the KV cache.
 */
function decodeLogits(model: DeepseekModel, tokens: tf.Tensor2D, prefill: number): { dtype: 'F32'; shape: number[]; data: Float32Array } {
  const [b, s] = tokens.shape;
  const v = model.config.vocabSize;
  const steps = 1 + s - prefill;
  const data = new Float32Array(steps * b * v);
  const cache = model.createCache({ batchSize: b, maxSeqLen: s });
  try {
    for (let j = 0; j < steps; j++) {
      const [start, length] = j === 0 ? [0, prefill] : [prefill + j - 1, 1];
      tf.tidy(() => {
        const chunk = tf.slice(tokens, [0, start], [b, length]);
        const { logits } = model.forward(chunk, { cache, startPos: start });
        data.set(tf.slice(logits, [0, length - 1, 0], [b, 1, v]).dataSync(), j * b * v);
      });
    }
  } finally {
    cache.dispose();
  }
  return { dtype: 'F32', shape: [steps, b, v], data };
}
