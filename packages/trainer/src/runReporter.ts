import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Tracker } from '@deepline/core';
import { lossPlotSvg } from './lossPlot.js';

/** Metrics of one optimizer step. */
export interface StepMetrics {
  step: number;
  loss: number;
  lmLoss: number;
  balanceLoss: number;
  mtpLoss: number;
  lr: number;
  gradNorm: number;
  /** True when a non-finite loss or gradient made the step a no-op. */
  skipped: boolean;
  tokens: number;
  tokensPerSecond: number;
  /** Assignments per expert, by MoE layer index. */
  expertLoad: Record<string, number[]>;
}

/** Result of an evaluation. */
export interface EvalMetrics {
  step: number;
  valLoss: number;
  perplexity: number;
  tokens: number;
}

/**
 * Where a run's numbers go: a JSON-lines file (every field, expert loads included) and the
 * injected tracker (scalars per step, the loss plot and metrics file as artifacts).
 */
export class RunReporter {
  private readonly lossHistory: [number, number][] = [];
  private readonly valHistory: [number, number][] = [];

  constructor(private readonly options: { tracker: Tracker; metricsFile?: string }) {}

  /** Records a training step. */
  async step(m: StepMetrics): Promise<void> {
    if (!m.skipped) this.lossHistory.push([m.step, m.loss]);
    await this.append({ type: 'train', ...m });
    await this.options.tracker.logMetrics(trackerScalars(m), { step: m.step });
  }

  /** Records a validation; `best` marks a new best loss. */
  async evaluation(e: EvalMetrics, best: boolean): Promise<void> {
    this.valHistory.push([e.step, e.valLoss]);
    await this.append({ type: 'eval', ...e, best });
    await this.options.tracker.logMetrics(
      { val_loss: e.valLoss, val_perplexity: e.perplexity },
      { step: e.step },
    );
  }

  /** Writes `loss.svg` (train and validation curves) into `dir` and logs it and the metrics file. */
  async finish(dir?: string): Promise<void> {
    if (dir) {
      const path = join(dir, 'loss.svg');
      const series = [
        { name: 'train', points: this.lossHistory },
        { name: 'validation', points: this.valHistory },
      ];
      await writeFile(path, lossPlotSvg({ title: 'training loss', series }));
      await this.options.tracker.logArtifact(path, 'plots');
    }
    if (this.options.metricsFile)
      await this.options.tracker.logArtifact(this.options.metricsFile, 'metrics');
  }

  private async append(record: Record<string, unknown>): Promise<void> {
    const file = this.options.metricsFile;
    if (!file) return;
    await mkdir(dirname(file), { recursive: true });
    // JSON has no NaN/Infinity: write them as strings so a skipped step stays visible.
    const text = JSON.stringify(record, (_, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    );
    await appendFile(file, `${text}\n`);
  }
}

/** Tracker scalars of a step: losses, lr, norm, throughput and each MoE layer's max/mean load. */
function trackerScalars(m: StepMetrics): Record<string, number> {
  const scalars: Record<string, number> = {
    loss: m.loss,
    lm_loss: m.lmLoss,
    lr: m.lr,
    grad_norm: m.gradNorm,
    tokens_per_second: m.tokensPerSecond,
    skipped: m.skipped ? 1 : 0,
  };
  if (m.balanceLoss) scalars.balance_loss = m.balanceLoss;
  if (m.mtpLoss) scalars.mtp_loss = m.mtpLoss;
  for (const [layer, load] of Object.entries(m.expertLoad)) {
    const mean = load.reduce((a, b) => a + b, 0) / load.length;
    scalars[`moe_layer${layer}_max_load_ratio`] = mean > 0 ? Math.max(...load) / mean : 0;
  }
  // Trackers store finite numbers only; a skipped step keeps its `skipped` flag.
  for (const k of Object.keys(scalars)) if (!Number.isFinite(scalars[k]!)) delete scalars[k];
  return scalars;
}
