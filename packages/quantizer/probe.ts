import { readFileSync } from 'node:fs';
import { initBackend, tf } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { perplexity, quantizeModel } from './src/index.js';
await initBackend({ backend: 'wasm' });
const tokens = JSON.parse(readFileSync('/tmp/qfix/tokens.json', 'utf8'));
const base = await DeepseekModel.load('/tmp/qfix');
const held = tokens.heldOut.slice(0, 128);
const ref = tf.tidy(() => tf.logSoftmax(base.forward(tf.tensor2d([held], [1, 128], 'int32')).logits));
console.log('fp32', perplexity({ model: base, tokens: tokens.heldOut }).ppl);
const kl = (m: DeepseekModel) => tf.tidy(() => { const q = tf.logSoftmax(m.forward(tf.tensor2d([held], [1, 128], 'int32')).logits); return tf.mean(tf.sum(tf.mul(tf.exp(ref), tf.sub(ref, q)), -1)).dataSync()[0]; });
const calib = Array.from({ length: 16 }, (_, i) => tokens.calibration.slice(i * 128, i * 128 + 128));
for (const [scheme, damp] of [['int4-g32', 0], ['gptq-int4-g32', 0.01], ['gptq-int4-g32', 0.1], ['int4-g32-asym', 0], ['gptq-int4-g32-asym', 0.01], ['gptq-int4-g32-asym', 0.1]] as const) {
  const model = await DeepseekModel.load('/tmp/qfix');
  quantizeModel({ model, scheme, calibration: calib, dampPercent: damp });
  console.log(scheme, damp, perplexity({ model, tokens: tokens.heldOut }).ppl, 'kl', kl(model));
  model.dispose();
}
