import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type RandomState,
  type RawTensor,
  readSafetensors,
  readSafetensorsDir,
  serializeSafetensors,
  type TensorToWrite,
  tf,
  toFloat32,
} from '@deepline/core';
import type { AdamWState } from './adamw.js';
import { TrainerError } from './errors.js';
import { fsyncTree, renameDirAtomic, writeFileSynced } from './fsAtomic.js';
import type { TrainableModel } from './model.js';
import type { LrSchedule } from './schedule.js';

export const CHECKPOINT_FORMAT = 'deepline-trainer-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** Written last inside a checkpoint; its presence marks a complete checkpoint. */
export const STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
const STEP_DIR = /^step-(\d+)$/;

/** Everything besides tensors that resuming needs. */
export interface TrainerState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Completed training steps (including skipped ones). */
  step: number;
  /** Updates the optimizer applied (skipped steps excluded). */
  optimizerStep: number;
  tokensSeen: number;
  skippedSteps: number;
  rng: RandomState;
  /** The data loader's own state(). */
  data: unknown;
  schedule: { config: LrSchedule; lr: number };
  /** HF names of the MoE gate correction biases (stored with the weights). */
  gateBiases: string[];
  bestValLoss: number | null;
  bestStep: number | null;
  evalsWithoutImprovement: number;
  /** Validation loss measured at this step, when there was one. */
  valLoss: number | null;
  /** Mean training loss of the last step. */
  loss: number | null;
}

/** A checkpoint found on disk. */
export interface CheckpointInfo {
  step: number;
  path: string;
}

/** Directory name of the checkpoint of `step` (zero-padded so names sort by step). */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** Options of writeCheckpoint. */
export interface WriteCheckpointOptions {
  /** Parent directory holding the run's checkpoints. */
  dir: string;
  model: TrainableModel;
  optimizer: AdamWState;
  state: TrainerState;
  /** Called after each file is in the temp directory (progress, tests). */
  onFile?: (file: string) => void | Promise<void>;
}

/**
 * Writes a checkpoint atomically: everything goes into a temp directory beside the
 * target, every file is fsynced, then the directory is renamed into place. A process
 * killed mid-write leaves only a `.tmp-*` directory that loaders ignore.
 */
export async function writeCheckpoint(options: WriteCheckpointOptions): Promise<string> {
  const { dir, model, optimizer, state } = options;
  assertFiniteWeights(model, state.step);
  await mkdir(dir, { recursive: true });
  const name = checkpointName(state.step);
  const temp = join(dir, `.tmp-${name}-${process.pid}-${Date.now()}`);
  await mkdir(temp);
  try {
    await writeModel(model, join(temp, 'model'));
    await options.onFile?.('model');
    await writeFileSynced(join(temp, OPTIMIZER_FILE), serializeOptimizer(optimizer));
    await options.onFile?.(OPTIMIZER_FILE);
    await writeFileSynced(join(temp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    await options.onFile?.(STATE_FILE);
    await fsyncTree(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  const target = join(dir, name);
  await renameDirAtomic(temp, target, dir);
  return target;
}

function assertFiniteWeights(model: TrainableModel, step: number): void {
  for (const [name, v] of model.namedWeights()) {
    const finite = tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0]);
    if (!finite) {
      throw new TrainerError(
        `refusing to checkpoint step ${step}: weight '${name}' holds NaN or Infinity`,
        {
          code: 'NON_FINITE_WEIGHTS',
          context: { tensor: name, step },
        },
      );
    }
  }
}

/**
 * Writes the model as a directory its package can load: `model.save(dir)` when the model
 * has one (HF config.json + safetensors), else `namedWeights()` as `model.safetensors`.
 */
export async function writeModel(model: TrainableModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (model.save) {
    await model.save(dir);
    return;
  }
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, v] of model.namedWeights()) {
    tensors[name] = { dtype: 'F32', shape: [...v.shape], data: v.dataSync() as Float32Array };
  }
  await writeFileSynced(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
}

function serializeOptimizer(state: AdamWState): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, m] of state.m)
    tensors[`m.${name}`] = { dtype: 'F32', shape: [m.length], data: m };
  for (const [name, v] of state.v)
    tensors[`v.${name}`] = { dtype: 'F32', shape: [v.length], data: v };
  return serializeSafetensors(tensors, { step: String(state.step), format: 'adamw' });
}

/** A checkpoint read back from disk. */
export interface LoadedCheckpoint {
  path: string;
  state: TrainerState;
  optimizer: AdamWState;
  /** Model weights by HF name. */
  weights: Map<string, RawTensor>;
}

/** Reads a checkpoint directory; errors name the file and what is wrong. */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const statePath = join(path, STATE_FILE);
  if (!existsSync(statePath)) {
    throw new TrainerError(`${path} is not a complete checkpoint (no ${STATE_FILE})`, {
      code: 'CHECKPOINT_INCOMPLETE',
      context: { file: path },
    });
  }
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8'));
  } catch (cause) {
    throw new TrainerError(`${statePath}: not valid JSON (${(cause as Error).message})`, {
      code: 'CHECKPOINT_INVALID',
      context: { file: statePath },
      cause,
    });
  }
  if (state.format !== CHECKPOINT_FORMAT || state.version !== CHECKPOINT_VERSION) {
    throw new TrainerError(
      `${statePath}: expected format ${CHECKPOINT_FORMAT} v${CHECKPOINT_VERSION}, got ${state.format} v${state.version}`,
      {
        code: 'CHECKPOINT_INVALID',
        context: { file: statePath, field: 'format' },
      },
    );
  }
  const optimizerPath = join(path, OPTIMIZER_FILE);
  const raw = await readSafetensors(optimizerPath);
  const optimizer: AdamWState = { step: Number(raw.metadata.step), m: new Map(), v: new Map() };
  for (const [key, tensor] of raw.tensors) {
    const dot = key.indexOf('.');
    const kind = key.slice(0, dot);
    if (kind !== 'm' && kind !== 'v') {
      throw new TrainerError(`${optimizerPath}: unexpected tensor '${key}'`, {
        code: 'CHECKPOINT_INVALID',
        context: { file: optimizerPath, tensor: key },
      });
    }
    optimizer[kind].set(key.slice(dot + 1), toFloat32(tensor));
  }
  const { tensors: weights } = await readSafetensorsDir(join(path, 'model'));
  return { path, state, optimizer, weights };
}

/** Copies checkpointed weights into the model's variables (names and shapes must match). */
export function loadWeightsInto(
  model: TrainableModel,
  weights: Map<string, RawTensor>,
  source: string,
): void {
  for (const [name, variable] of model.namedWeights()) {
    const raw = weights.get(name);
    if (!raw) {
      throw new TrainerError(`${source}: weight '${name}' is missing`, {
        code: 'CHECKPOINT_MISMATCH',
        context: { file: source, tensor: name },
      });
    }
    if (
      raw.shape.length !== variable.shape.length ||
      raw.shape.some((d, i) => d !== variable.shape[i])
    ) {
      throw new TrainerError(
        `${source}: weight '${name}' has shape [${raw.shape}], the model expects [${variable.shape}]`,
        {
          code: 'CHECKPOINT_MISMATCH',
          context: { file: source, tensor: name },
        },
      );
    }
    tf.tidy(() => variable.assign(tf.tensor(toFloat32(raw), variable.shape, 'float32')));
  }
}

/** Complete checkpoints under `dir`, oldest first (temp directories are ignored). */
export async function listCheckpoints(dir: string): Promise<CheckpointInfo[]> {
  if (!existsSync(dir)) return [];
  const out: CheckpointInfo[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const match = entry.isDirectory() ? STEP_DIR.exec(entry.name) : null;
    if (match && existsSync(join(dir, entry.name, STATE_FILE)))
      out.push({ step: Number(match[1]), path: join(dir, entry.name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The newest complete checkpoint under `dir`, if any. */
export async function latestCheckpoint(dir: string): Promise<CheckpointInfo | undefined> {
  return (await listCheckpoints(dir)).at(-1);
}

/** Deletes all but the last `keepLast` checkpoints and those whose step is in `keep`; clears stale temp dirs. */
export async function pruneCheckpoints(options: {
  dir: string;
  keepLast: number;
  keep?: Iterable<number>;
}): Promise<number[]> {
  const keep = new Set(options.keep ?? []);
  const all = await listCheckpoints(options.dir);
  const recent = new Set(all.slice(Math.max(0, all.length - options.keepLast)).map((c) => c.step));
  const removed: number[] = [];
  for (const c of all) {
    if (recent.has(c.step) || keep.has(c.step)) continue;
    await rm(c.path, { recursive: true, force: true });
    removed.push(c.step);
  }
  for (const entry of await readdir(options.dir)) {
    if (entry.startsWith('.tmp-step-') && !entry.includes(`-${process.pid}-`))
      await rm(join(options.dir, entry), { recursive: true, force: true });
  }
  return removed;
}
