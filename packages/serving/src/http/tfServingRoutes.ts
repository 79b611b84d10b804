import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServingError } from '../errors.js';
import { resolveSamplingParams } from '../sampling/sampler.js';
import { runChoices } from './generation.js';
import { parseJson, readBody, sendJson } from './httpUtil.js';
import type { RouteContext } from './server.js';
import { modelCard } from './openaiRoutes.js';

/** The one version a directory-loaded model has. */
const VERSION = '1';

function tfError(status: number, message: string): ServingError {
  return new ServingError(message, { code: 'tf_serving', context: { status, type: 'invalid_request_error' } });
}

function checkServable(ctx: RouteContext, name: string, version: string | undefined): void {
  if (name !== ctx.served.name) throw tfError(404, `Servable not found for request: Latest(${name})`);
  if (version !== undefined && version !== VERSION) throw tfError(404, `Servable not found for request: Specific(${name}, ${version})`);
}

/**
 * `GET /v1/models/<name>`: TF-Serving's model status. The same path is OpenAI's model
 * retrieval, so the body carries both shapes (each client reads its own fields).
 */
export function tfModelStatus(ctx: RouteContext, res: ServerResponse, name: string, version: string | undefined): void {
  checkServable(ctx, name, version);
  sendJson(res, 200, {
    ...modelCard(ctx),
    model_version_status: [{ version: VERSION, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
  });
}

interface Instance {
  prompt?: string;
  input_ids?: number[];
  max_tokens?: number;
}

/** One row: a prompt string, a token-id list, or an object with `prompt`/`input_ids` and `max_tokens`. */
function toInstance(value: unknown, where: string): Instance {
  if (typeof value === 'string') return { prompt: value };
  if (Array.isArray(value) && value.every((v) => Number.isInteger(v))) return { input_ids: value as number[] };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    const inst: Instance = {};
    if (v.prompt !== undefined) {
      if (typeof v.prompt !== 'string') throw tfError(400, `${where}.prompt must be a string`);
      inst.prompt = v.prompt;
    }
    if (v.input_ids !== undefined) {
      if (!Array.isArray(v.input_ids) || !v.input_ids.every((t) => Number.isInteger(t))) throw tfError(400, `${where}.input_ids must be a list of integers`);
      inst.input_ids = v.input_ids as number[];
    }
    if (v.max_tokens !== undefined) {
      if (!Number.isInteger(v.max_tokens) || (v.max_tokens as number) < 1) throw tfError(400, `${where}.max_tokens must be a positive integer`);
      inst.max_tokens = v.max_tokens as number;
    }
    if ((inst.prompt === undefined) === (inst.input_ids === undefined)) throw tfError(400, `${where} needs exactly one of "prompt" or "input_ids"`);
    return inst;
  }
  throw tfError(400, `${where} must be a string, a list of token ids, or an object with "prompt" or "input_ids"`);
}

/** Columnar `inputs` → rows: a string, a list of strings, or `{prompt|input_ids: [...], max_tokens?: [...]}`. */
function columnsToInstances(inputs: unknown): Instance[] {
  if (typeof inputs === 'string') return [{ prompt: inputs }];
  if (Array.isArray(inputs)) return inputs.map((v, i) => toInstance(v, `inputs[${i}]`));
  if (inputs && typeof inputs === 'object') {
    const cols = inputs as Record<string, unknown>;
    const key = cols.prompt !== undefined ? 'prompt' : 'input_ids';
    const column = cols[key];
    if (!Array.isArray(column)) throw tfError(400, 'inputs must hold a "prompt" or "input_ids" list');
    const maxTokens = cols.max_tokens;
    if (maxTokens !== undefined && (!Array.isArray(maxTokens) || maxTokens.length !== column.length)) throw tfError(400, 'inputs.max_tokens must be a list as long as the prompts');
    return column.map((v, i) => toInstance({ [key]: v, ...(Array.isArray(maxTokens) ? { max_tokens: maxTokens[i] } : {}) }, `inputs.${key}[${i}]`));
  }
  throw tfError(400, 'inputs must be a string, a list, or an object of lists');
}

/**
 * `POST /v1/models/<name>[/versions/N]:predict`: greedy generation for each instance.
 * Row format answers `{predictions: [{generated_text, output_ids}]}`, columnar format
 * `{outputs: {generated_text: [...], output_ids: [...]}}`.
 */
export async function handleTfPredict(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, name: string, version: string | undefined): Promise<void> {
  checkServable(ctx, name, version);
  const body = parseJson(await readBody(req, ctx.options.maxBodyBytes ?? 1024 * 1024)) as Record<string, unknown>;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw tfError(400, 'request body must be a JSON object');
  const hasInstances = body.instances !== undefined;
  const hasInputs = body.inputs !== undefined;
  if (hasInstances === hasInputs) throw tfError(400, 'request must have exactly one of "instances" or "inputs"');
  if (body.signature_name !== undefined && body.signature_name !== 'serving_default') throw tfError(400, `unknown signature_name "${String(body.signature_name)}"; only "serving_default" exists`);
  let instances: Instance[];
  if (hasInstances) {
    if (!Array.isArray(body.instances) || body.instances.length === 0) throw tfError(400, '"instances" must be a non-empty list');
    instances = body.instances.map((v, i) => toInstance(v, `instances[${i}]`));
  } else instances = columnsToInstances(body.inputs);
  const tokenizer = ctx.served.tokenizer;
  const prompts = instances.map((inst) => inst.input_ids ?? tokenizer.encode(inst.prompt!));
  prompts.forEach((p, i) => {
    if (p.length === 0) throw tfError(400, `instance ${i} has an empty prompt`);
    if (p.length > ctx.maxPromptTokens) throw tfError(400, `instance ${i} prompt is ${p.length} tokens; the limit is ${ctx.maxPromptTokens}`);
  });
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const sampling = resolveSamplingParams({ temperature: 0 });
  const requests = prompts.map((promptTokens, i) => ({
    promptTokens,
    maxTokens: instances[i]!.max_tokens ?? Math.max(1, Math.min(16, ctx.served.model.contextLength - promptTokens.length)),
    sampling,
    stopTokenIds: tokenizer.stopTokenIds,
    signal: controller.signal,
  }));
  const results = await runChoices({ engine: ctx.engine, requests }).catch((error) => {
    if (error instanceof ServingError && error.context.status < 500) throw tfError(error.context.status, error.message);
    throw error;
  });
  if (controller.signal.aborted) return;
  if (hasInstances) sendJson(res, 200, { predictions: results.map((r) => ({ generated_text: r.text, output_ids: r.tokens })) });
  else sendJson(res, 200, { outputs: { generated_text: results.map((r) => r.text), output_ids: results.map((r) => r.tokens) } });
}
