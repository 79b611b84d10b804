import { join } from 'node:path';
import {
  createLogger,
  type Logger,
  noopTracker,
  ProgressReporter,
  SeededRandom,
  type Tracker,
  tf,
} from '@deepline/core';
import { AdamW, type AdamWOptions } from './adamw.js';
import { updateGateBias } from './balance.js';
import type { BatchSource } from './batchSource.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  loadWeightsInto,
  pruneCheckpoints,
  readCheckpoint,
  type TrainerState,
  writeCheckpoint,
  writeModel,
} from './checkpoint.js';
import { clipGradients } from './clipping.js';
import { checkInteger, checkNumber, TrainerError } from './errors.js';
import { crossEntropy, shiftTokens } from './losses.js';
import { batchTensor, microBatchGradients } from './microBatch.js';
import type { TrainableModel } from './model.js';
import { type EvalMetrics, RunReporter, type StepMetrics } from './runReporter.js';
import { type LrSchedule, learningRateAt, validateSchedule } from './schedule.js';

/** Options of Trainer. Only `model`, `data`, `schedule` and `maxSteps` are required. */
export interface TrainerOptions {
  model: TrainableModel;
  /** Training batches (each next() is one micro-batch). */
  data: BatchSource;
  schedule: LrSchedule;
  /** Optimizer steps to run. */
  maxSteps: number;
  /** AdamW hyper-parameters (defaults: β 0.9/0.95, ε 1e-8, weight decay 0.1, no decay on norms/biases). */
  optimizer?: Omit<AdamWOptions, 'params'>;
  /** Micro-batches accumulated into one optimizer step (default 1). */
  gradAccumulation?: number;
  /** Global-norm clipping threshold (default 1.0; 0 disables). */
  clipNorm?: number;
  /** MoE balancing: α of the sequence-wise balance loss (default 1e-4) and γ of the bias update (default 1e-3). */
  moe?: { balanceAlpha?: number; biasGamma?: number };
  /** MTP loss weight λ (default 0.3); used when the model returns MTP logits. */
  mtpLambda?: number;
  /** Recompute block activations in backprop (passed to the model's forward). */
  recompute?: boolean;
  /** Validation every `every` steps over at most `maxBatches` batches of `data` (from its initial position each time). */
  validation?: { data: BatchSource; every: number; maxBatches?: number };
  /** Stop when `patience` validations in a row fail to improve the best loss by more than `minDelta`. */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Checkpoints every `every` steps into `dir`, keeping the last `keepLast` (default 3) and the best. */
  checkpoint?: { dir: string; every: number; keepLast?: number };
  /** JSON-lines metrics file, appended one object per step / evaluation. */
  metricsFile?: string;
  /** Injected experiment tracker (default: records nothing). */
  tracker?: Tracker;
  /** Name under which the final model is registered (when the tracker supports it). */
  registerModelName?: string;
  /** Progress bar / JSON progress lines; false turns it off (default: on stderr). */
  progress?: false | { stream?: NodeJS.WritableStream; mode?: 'bar' | 'json' };
  /** Seed of the run's random stream (default 0). */
  seed?: number;
  logger?: Logger;
  /** Extra params for the tracker (e.g. the CLI's config). */
  params?: Record<string, string | number | boolean>;
}

/** Why and where fit() stopped. */
export interface FitSummary {
  steps: number;
  reason: 'max-steps' | 'early-stopping' | 'data-exhausted';
  lastLoss: number | null;
  bestValLoss: number | null;
  bestStep: number | null;
  skippedSteps: number;
  tokensSeen: number;
  lastCheckpoint?: string;
  /** Directory of the exported final model, when checkpointing is configured. */
  finalModel?: string;
}

/**
 * Causal-LM pre-training loop: AdamW with a warm-up/decay schedule, global-norm clipping,
 * gradient accumulation, MoE balance loss and bias update, MTP loss, validation with early
 * stopping, NaN/Inf step skipping, atomic checkpoints and exact resume.
 */
export class Trainer {
  readonly model: TrainableModel;
  readonly optimizer: AdamW;
  private readonly opts: TrainerOptions;
  private readonly params: Map<string, tf.Variable>;
  private readonly gateBiases: string[];
  private readonly rng: SeededRandom;
  private readonly valStart: unknown;
  private readonly logger: Logger;
  private readonly tracker: Tracker;
  private step = 0;
  private tokensSeen = 0;
  private skippedSteps = 0;
  private lastLoss: number | null = null;
  private bestValLoss: number | null = null;
  private bestStep: number | null = null;
  private evalsWithoutImprovement = 0;
  private lastValLoss: number | null = null;
  private lastCheckpoint?: string;
  private readonly reporter: RunReporter;

  constructor(options: TrainerOptions) {
    this.opts = options;
    validateSchedule(options.schedule);
    checkInteger('maxSteps', options.maxSteps, 0);
    checkInteger('gradAccumulation', options.gradAccumulation ?? 1, 1);
    checkNumber('clipNorm', options.clipNorm ?? 1, 0);
    checkNumber('moe.balanceAlpha', options.moe?.balanceAlpha ?? 1e-4, 0);
    checkNumber('moe.biasGamma', options.moe?.biasGamma ?? 1e-3, 0);
    checkNumber('mtpLambda', options.mtpLambda ?? 0.3, 0);
    if (options.validation) {
      checkInteger('validation.every', options.validation.every, 1);
      if (options.validation.maxBatches !== undefined)
        checkInteger('validation.maxBatches', options.validation.maxBatches, 1);
    }
    if (options.earlyStopping) {
      checkInteger('earlyStopping.patience', options.earlyStopping.patience, 1);
      checkNumber('earlyStopping.minDelta', options.earlyStopping.minDelta ?? 0, 0);
    }
    if (options.checkpoint) {
      checkInteger('checkpoint.every', options.checkpoint.every, 1);
      checkInteger('checkpoint.keepLast', options.checkpoint.keepLast ?? 3, 1);
    }
    this.model = options.model;
    const weights = options.model.namedWeights();
    this.params = new Map([...weights].filter(([, v]) => v.trainable));
    this.gateBiases = [...weights].filter(([, v]) => !v.trainable).map(([n]) => n);
    if (this.params.size === 0) {
      throw new TrainerError('the model has no trainable weights', {
        code: 'NO_PARAMS',
        context: { field: 'model' },
      });
    }
    this.optimizer = new AdamW({ ...options.optimizer, params: this.params });
    this.rng = new SeededRandom(options.seed ?? 0);
    this.valStart = options.validation?.data.state();
    this.logger = options.logger ?? createLogger({ scope: 'trainer' });
    this.tracker = options.tracker ?? noopTracker;
    this.reporter = new RunReporter({ tracker: this.tracker, metricsFile: options.metricsFile });
  }

  /** Frees the optimizer's moment tensors (the model belongs to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** Completed steps (skipped ones included). */
  get currentStep(): number {
    return this.step;
  }

  /** Learning rate of the next step. */
  get learningRate(): number {
    return learningRateAt(this.opts.schedule, this.step);
  }

  /**
   * Runs one optimizer step over `gradAccumulation` micro-batches. Returns undefined when
   * the data ran out before the step could start (a partial accumulation is discarded).
   */
  async trainStep(): Promise<StepMetrics | undefined> {
    const started = performance.now();
    const micro = this.opts.gradAccumulation ?? 1;
    const sums = { loss: 0, lm: 0, bal: 0, mtp: 0, tokens: 0 };
    const loads = new Map<number, { load: Float64Array; biasName?: string }>();
    let gradSum: Map<string, tf.Tensor> | undefined;
    try {
      for (let i = 0; i < micro; i++) {
        const batch = await this.opts.data.next();
        if (!batch) return undefined;
        const r = microBatchGradients({
          model: this.model,
          batch,
          params: this.params,
          balanceAlpha: this.opts.moe?.balanceAlpha ?? 1e-4,
          mtpLambda: this.opts.mtpLambda ?? 0.3,
          recompute: this.opts.recompute ?? false,
          rng: this.rng,
        });
        gradSum = accumulate(gradSum, r.grads);
        sums.loss += r.loss;
        sums.lm += r.lmLoss;
        sums.bal += r.balanceLoss;
        sums.mtp += r.mtpLoss;
        sums.tokens += r.tokens;
        for (const l of r.loads) {
          const prev = loads.get(l.layer);
          if (prev) for (let e = 0; e < l.load.length; e++) prev.load[e]! += l.load[e]!;
          else loads.set(l.layer, { load: l.load, biasName: l.biasName });
        }
      }
      const mean = scaleGrads(gradSum!, 1 / micro);
      gradSum = mean;
      const lr = learningRateAt(this.opts.schedule, this.step);
      const clipped = clipGradients({ grads: mean, maxNorm: this.opts.clipNorm ?? 1 });
      const loss = sums.loss / micro;
      const skipped = !Number.isFinite(loss) || !Number.isFinite(clipped.norm);
      if (skipped) {
        this.skippedSteps += 1;
        this.logger.warn(
          `step ${this.step + 1}: non-finite ${Number.isFinite(loss) ? 'gradient' : 'loss'}; update skipped`,
          { loss, gradNorm: clipped.norm },
        );
      } else {
        this.optimizer.apply(clipped.grads, lr);
        this.updateBiases(loads);
        this.lastLoss = loss;
      }
      tf.dispose([...clipped.grads.values()]);
      this.step += 1;
      this.tokensSeen += sums.tokens;
      const seconds = (performance.now() - started) / 1000;
      const metrics: StepMetrics = {
        step: this.step,
        loss,
        lmLoss: sums.lm / micro,
        balanceLoss: sums.bal / micro,
        mtpLoss: sums.mtp / micro,
        lr,
        gradNorm: clipped.norm,
        skipped,
        tokens: sums.tokens,
        tokensPerSecond: sums.tokens / Math.max(seconds, 1e-9),
        expertLoad: Object.fromEntries(
          [...loads].map(([layer, l]) => [String(layer), [...l.load]]),
        ),
      };
      return metrics;
    } finally {
      if (gradSum) tf.dispose([...gradSum.values()]);
    }
  }

  private updateBiases(loads: Map<number, { load: Float64Array; biasName?: string }>): void {
    const gamma = this.opts.moe?.biasGamma ?? 1e-3;
    const weights = this.model.namedWeights();
    for (const { load, biasName } of loads.values()) {
      if (!biasName) continue;
      const bias = weights.get(biasName);
      if (!bias) {
        throw new TrainerError(
          `routing names gate bias '${biasName}', which the model does not have`,
          {
            code: 'BIAS_MISSING',
            context: { tensor: biasName },
          },
        );
      }
      updateGateBias({ bias, load, gamma });
    }
  }

  /** Mean next-token loss and perplexity over the validation data (from its start). */
  async evaluate(): Promise<EvalMetrics> {
    const val = this.opts.validation;
    if (!val)
      throw new TrainerError('evaluate() needs the validation option', {
        code: 'NO_VALIDATION',
        context: { field: 'validation' },
      });
    val.data.restore(this.valStart);
    let total = 0;
    let tokens = 0;
    for (let i = 0; i < (val.maxBatches ?? Number.POSITIVE_INFINITY); i++) {
      const batch = await val.data.next();
      if (!batch) break;
      const tensor = batchTensor(batch);
      const loss = tf.tidy(() => {
        const { inputs, targets } = shiftTokens(tensor);
        const out = this.model.forward(inputs, {
          training: false,
          collectRouting: false,
          mtp: false,
          recompute: false,
          rng: this.rng,
        });
        return crossEntropy(out.logits, targets);
      });
      const n = batch.batchSize * (batch.seqLen - 1);
      total += loss.dataSync()[0]! * n;
      tokens += n;
      tf.dispose([loss, tensor]);
    }
    if (tokens === 0)
      throw new TrainerError('validation data yielded no batch', {
        code: 'NO_VALIDATION',
        context: { field: 'validation.data' },
      });
    const valLoss = total / tokens;
    return { step: this.step, valLoss, perplexity: Math.exp(valLoss), tokens };
  }

  /** The resumable state (what a checkpoint stores besides tensors). */
  state(): TrainerState {
    return {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step: this.step,
      optimizerStep: this.optimizer.step,
      tokensSeen: this.tokensSeen,
      skippedSteps: this.skippedSteps,
      rng: this.rng.getState(),
      data: this.opts.data.state(),
      schedule: { config: this.opts.schedule, lr: learningRateAt(this.opts.schedule, this.step) },
      gateBiases: this.gateBiases,
      bestValLoss: this.bestValLoss,
      bestStep: this.bestStep,
      evalsWithoutImprovement: this.evalsWithoutImprovement,
      valLoss: this.lastValLoss,
      loss: this.lastLoss,
    };
  }

  /**
   * Writes a checkpoint of the current step into `checkpoint.dir` (or `dir`), prunes old
   * ones and logs it to the tracker. `onFile` observes the write (tests, progress).
   */
  async saveCheckpoint(
    options: { dir?: string; onFile?: (file: string) => void | Promise<void> } = {},
  ): Promise<string> {
    const dir = options.dir ?? this.opts.checkpoint?.dir;
    if (!dir)
      throw new TrainerError('saveCheckpoint needs a directory (option checkpoint.dir)', {
        code: 'NO_CHECKPOINT_DIR',
        context: { field: 'checkpoint.dir' },
      });
    const path = await writeCheckpoint({
      dir,
      model: this.model,
      optimizer: this.optimizer.getState(),
      state: this.state(),
      onFile: options.onFile,
    });
    this.lastCheckpoint = path;
    const keep = this.bestStep === null ? [] : [this.bestStep];
    await pruneCheckpoints({ dir, keepLast: this.opts.checkpoint?.keepLast ?? 3, keep });
    this.logger.info(`checkpoint step ${this.step} saved`, { path });
    await this.tracker.logArtifact(path, 'checkpoints');
    return path;
  }

  /** Restores weights, optimizer, RNG, data position, step and best-so-far from a checkpoint. */
  async resume(path: string): Promise<void> {
    const ckpt = await readCheckpoint(path);
    const { state } = ckpt;
    if (JSON.stringify(state.schedule.config) !== JSON.stringify(this.opts.schedule)) {
      this.logger.warn('resuming with a different learning-rate schedule than the checkpoint', {
        saved: state.schedule.config,
      });
    }
    loadWeightsInto(this.model, ckpt.weights, join(path, 'model'));
    this.optimizer.setState(ckpt.optimizer);
    this.rng.setState(state.rng);
    this.opts.data.restore(state.data);
    this.step = state.step;
    this.tokensSeen = state.tokensSeen;
    this.skippedSteps = state.skippedSteps;
    this.bestValLoss = state.bestValLoss;
    this.bestStep = state.bestStep;
    this.evalsWithoutImprovement = state.evalsWithoutImprovement;
    this.lastValLoss = state.valLoss;
    this.lastLoss = state.loss;
    this.lastCheckpoint = path;
    this.logger.info(`resumed from step ${state.step}`, { path });
  }

  /** Trains until maxSteps, early stopping or the end of the data; reports and checkpoints on the way. */
  async fit(): Promise<FitSummary> {
    const o = this.opts;
    await this.tracker.logParams(this.trackerParams());
    const progress =
      o.progress === false
        ? undefined
        : new ProgressReporter({
            label: 'train',
            // Counted from where this fit() starts, so a resumed run's rate and ETA stay right.
            total: Math.max(0, o.maxSteps - this.step),
            stream: o.progress?.stream,
            mode: o.progress?.mode,
          });
    const startStep = this.step;
    let reason: FitSummary['reason'] = 'max-steps';
    let savedAt = -1;
    while (this.step < o.maxSteps) {
      const m = await this.trainStep();
      if (!m) {
        reason = 'data-exhausted';
        break;
      }
      await this.reporter.step(m);
      progress?.update(this.step - startStep, {
        loss: m.loss,
        lr: m.lr,
        'tok/s': Math.round(m.tokensPerSecond),
      });
      let improved = false;
      if (o.validation && this.step % o.validation.every === 0) {
        improved = await this.runValidation();
      }
      if (o.checkpoint && (this.step % o.checkpoint.every === 0 || improved)) {
        await this.saveCheckpoint();
        savedAt = this.step;
      }
      if (o.earlyStopping && this.evalsWithoutImprovement >= o.earlyStopping.patience) {
        reason = 'early-stopping';
        this.logger.info(
          `early stopping at step ${this.step}: no improvement in ${this.evalsWithoutImprovement} validations`,
        );
        break;
      }
    }
    progress?.finish({ loss: this.lastLoss ?? Number.NaN });
    const summary: FitSummary = {
      steps: this.step,
      reason,
      lastLoss: this.lastLoss,
      bestValLoss: this.bestValLoss,
      bestStep: this.bestStep,
      skippedSteps: this.skippedSteps,
      tokensSeen: this.tokensSeen,
    };
    if (o.checkpoint) {
      if (savedAt !== this.step && this.step > startStep) await this.saveCheckpoint();
      summary.finalModel = await this.exportFinalModel(o.checkpoint.dir);
    }
    await this.reporter.finish(o.checkpoint?.dir);
    summary.lastCheckpoint = this.lastCheckpoint;
    return summary;
  }

  private async runValidation(): Promise<boolean> {
    const e = await this.evaluate();
    this.lastValLoss = e.valLoss;
    const minDelta = this.opts.earlyStopping?.minDelta ?? 0;
    const improved = this.bestValLoss === null || e.valLoss < this.bestValLoss - minDelta;
    if (improved) {
      this.bestValLoss = e.valLoss;
      this.bestStep = e.step;
      this.evalsWithoutImprovement = 0;
    } else {
      this.evalsWithoutImprovement += 1;
    }
    await this.reporter.evaluation(e, improved);
    this.logger.info(
      `step ${e.step}: validation loss ${e.valLoss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)}`,
    );
    return improved;
  }

  private async exportFinalModel(dir: string): Promise<string> {
    const out = join(dir, 'model');
    await writeModel(this.model, out);
    // Logged at the artifact root, so the run holds it as `model/` (the registered path).
    await this.tracker.logArtifact(out);
    if (this.opts.registerModelName && this.tracker.registerModel) {
      const version = await this.tracker.registerModel(this.opts.registerModelName, 'model');
      this.logger.info(`registered model ${version.name} version ${version.version}`);
    }
    return out;
  }

  private trackerParams(): Record<string, string | number | boolean> {
    const o = this.opts;
    const params: Record<string, string | number | boolean> = {
      max_steps: o.maxSteps,
      grad_accumulation: o.gradAccumulation ?? 1,
      clip_norm: o.clipNorm ?? 1,
      balance_alpha: o.moe?.balanceAlpha ?? 1e-4,
      bias_gamma: o.moe?.biasGamma ?? 1e-3,
      mtp_lambda: o.mtpLambda ?? 0.3,
      recompute: o.recompute ?? false,
      seed: o.seed ?? 0,
      beta1: this.optimizer.beta1,
      beta2: this.optimizer.beta2,
      epsilon: this.optimizer.epsilon,
      weight_decay: this.optimizer.weightDecay,
      trainable_parameters: [...this.params.values()].reduce((a, v) => a + v.size, 0),
    };
    for (const [k, v] of Object.entries(o.schedule)) params[`schedule_${k}`] = v as string | number;
    return { ...params, ...this.model.describe?.(), ...o.params };
  }
}

function accumulate(
  sum: Map<string, tf.Tensor> | undefined,
  grads: Map<string, tf.Tensor>,
): Map<string, tf.Tensor> {
  if (!sum) return grads;
  for (const [name, g] of grads) {
    const prev = sum.get(name)!;
    sum.set(name, tf.add(prev, g));
    tf.dispose([prev, g]);
  }
  return sum;
}

function scaleGrads(grads: Map<string, tf.Tensor>, factor: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    out.set(name, factor === 1 ? g : tf.mul(g, factor));
    if (factor !== 1) g.dispose();
  }
  return out;
}
