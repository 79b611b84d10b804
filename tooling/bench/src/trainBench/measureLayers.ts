import { tf } from '@deepline/core';
import { crossEntropy } from '@deepline/kernels-wasm';
import { DeepseekModel, type DeepseekConfig, presetConfig } from '@deepline/layers';
import type { TrainBenchConfig } from './benchConfig.js';
import { type TrainRun, benchOptimizer, tokenBatch } from './measureTfjs.js';

/**
 * The bench sizes as a real @deepline/layers DeepSeek-V3 config (MLA with a rank-64 KV latent,
 * decoupled RoPE, 4 routed experts top-2 + 1 shared, no MTP).
 */
export function layersBenchConfig(cfg: TrainBenchConfig): DeepseekConfig {
  return presetConfig('tiny', {
    vocabSize: cfg.vocab,
    dim: cfg.dModel,
    interDim: cfg.mlpHidden,
    moeInterDim: cfg.expertHidden,
    nLayers: 2,
    nDenseLayers: 1,
    nHeads: cfg.heads,
    nRoutedExperts: cfg.experts,
    nActivatedExperts: cfg.topK,
    nSharedExperts: 1,
    nExpertGroups: 1,
    nLimitedGroups: 1,
    kvLoraRank: cfg.kvRank,
    qkNopeHeadDim: 24,
    qkRopeHeadDim: 8,
    vHeadDim: cfg.dModel / cfg.heads,
    maxSeqLen: cfg.seq,
    originalSeqLen: cfg.seq,
    nMtpModules: 0,
  });
}

/** Trains @deepline/layers' DeepseekModel at the bench sizes on the active backend. */
export function trainLayers(cfg: TrainBenchConfig, options: { steps: number; warmup: number; fusedAdam: boolean }): TrainRun {
  const model = DeepseekModel.create(layersBenchConfig(cfg), { seed: 0 });
  const optimizer = benchOptimizer(cfg, options.fusedAdam);
  const vars = [...model.namedWeights().values()];
  const step = (i: number): number => {
    const tokens = tokenBatch(cfg, i);
    const loss = optimizer.minimize(
      () => {
        const inputs = tf.slice(tokens, [0, 0], [cfg.batch, cfg.seq]) as tf.Tensor2D;
        const labels = tf.reshape(tf.slice(tokens, [0, 1], [cfg.batch, cfg.seq]), [-1]) as tf.Tensor1D;
        const { logits } = model.forward(inputs, { training: true });
        return crossEntropy({ logits: tf.reshape(logits, [-1, cfg.vocab]) as tf.Tensor2D, labels });
      },
      true,
      vars,
    )!;
    const value = loss.dataSync()[0]!;
    tf.dispose([loss, tokens]);
    return value;
  };
  try {
    const firstLoss = step(0);
    for (let i = 1; i < options.warmup; i++) step(i);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let finalLoss = Number.NaN;
    for (let i = 0; i < options.steps; i++) finalLoss = step(options.warmup + i);
    const ms = (performance.now() - start) / options.steps;
    const cpu = process.cpuUsage(cpuStart);
    const tokens = cfg.batch * cfg.seq * 1000;
    return { tokensPerSecond: tokens / ms, tokensPerCpuSecond: (tokens * options.steps) / ((cpu.user + cpu.system) / 1000), msPerStep: ms, finalLoss, firstLoss };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
