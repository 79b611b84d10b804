import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { greedyDecode, loadQuantizedModel } from '@deepline/quantizer';
import { Tokenizer } from '@deepline/tokenizer';
import { LlamaLogLevel, type Token, getLlama } from 'node-llama-cpp';
import { runCli, startServe } from '../testing.js';

// The smoke preset end to end through the real binary, in an empty working directory.
let cwd: string;
beforeAll(async () => {
  cwd = await makeTempDir('deepline-pipeline-');
});
afterAll(() => removeDir(cwd));

function runsIn(mlruns: string): { name: string; parent?: string; status: string }[] {
  const out = [];
  for (const exp of readdirSync(mlruns).filter((d) => /^\d+$/.test(d) && d !== '0')) {
    for (const run of readdirSync(join(mlruns, exp)).filter((d) => existsSync(join(mlruns, exp, d, 'meta.yaml')) && d !== 'meta.yaml')) {
      const tags = join(mlruns, exp, run, 'tags');
      const tag = (name: string) => (existsSync(join(tags, name)) ? readFileSync(join(tags, name), 'utf8') : undefined);
      const meta = readFileSync(join(mlruns, exp, run, 'meta.yaml'), 'utf8');
      out.push({ name: tag('mlflow.runName')!, parent: tag('mlflow.parentRunId'), status: /status: (\d)/.exec(meta)![1]! });
    }
  }
  return out;
}

describe('deepline pipeline', () => {
  it('runs the smoke preset end to end, then reuses every stage from the cache', () => {
    const first = runCli(['pipeline', 'run', '--preset', 'smoke'], { cwd, env: { DEEPLINE_LOG_LEVEL: 'warn' } });
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/data\s+12 documents read, \d+ kept/);
    expect(first.stdout).toMatch(/int4-g32\s+[\d.]+ MB \(0\.\d+× fp32\), perplexity [\d.]+/);
    expect(first.stdout).toContain('deepline serve --model .deepline/pipeline/outputs/model-int4-g32');
    const outputs = join(cwd, '.deepline/pipeline/outputs');
    for (const file of ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'model-int8/config.json', 'model-int4-g32/tokenizer.json', 'model-f16.gguf', 'model-q8_0.gguf']) {
      expect(existsSync(join(outputs, file)), file).toBe(true);
    }
    // GGUF magic and version 3.
    const gguf = readFileSync(join(outputs, 'model-q8_0.gguf'));
    expect(gguf.subarray(0, 4).toString()).toBe('GGUF');
    expect(gguf.readUInt32LE(4)).toBe(3);
    // One parent run, a nested FINISHED run per stage, and a registered model.
    const runs = runsIn(join(cwd, 'mlruns'));
    const parent = runs.find((r) => r.name === 'deepline-sotu-pipeline')!;
    expect(parent.status).toBe('3'); // FINISHED
    const children = runs.filter((r) => r.parent !== undefined).map((r) => r.name).sort();
    expect(children).toEqual(['data', 'evaluate', 'export', 'quantize', 'shard', 'tokenizer', 'train']);
    expect(existsSync(join(cwd, 'mlruns/models/deepline-sotu/version-1/meta.yaml'))).toBe(true);

    const second = runCli(['pipeline', 'run', '--preset', 'smoke'], { cwd, env: { DEEPLINE_LOG_LEVEL: 'warn' } });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/\(7 stages from cache\)/);
    const only = runCli(['pipeline', 'run', '--preset', 'smoke', '--only', 'evaluate'], { cwd, env: { DEEPLINE_LOG_LEVEL: 'warn' } });
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/\(6 stages from cache\)/);
  });

  it("serves the pipeline's int4 model with `deepline serve` and runs its GGUF in llama.cpp, matching deepline's greedy output", async () => {
    const outputs = join(cwd, '.deepline/pipeline/outputs');
    await initBackend({ backend: 'cpu' });
    const tokenizer = await Tokenizer.fromFile(join(outputs, 'model/tokenizer.json'));
    const prompt = tokenizer.encode('The Union is', { allowedSpecial: 'none' });

    // llama.cpp (node-llama-cpp's offline prebuilt CPU build) on the f16 GGUF vs the HF model.
    const model = await DeepseekModel.load(join(outputs, 'model'));
    const ours = greedyDecode({ model, prompt, maxNewTokens: 8 }).tokens;
    model.dispose();
    const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false, maxThreads: 1 });
    try {
      const lm = await llama.loadModel({ modelPath: join(outputs, 'model-f16.gguf') });
      const context = await lm.createContext({ contextSize: 64, threads: 1 });
      const theirs: number[] = [];
      for await (const token of context.getSequence().evaluate(prompt as Token[], { temperature: 0 })) {
        theirs.push(token);
        if (theirs.length >= ours.length) break;
      }
      await context.dispose();
      await lm.dispose();
      expect(theirs).toEqual(ours);
    } finally {
      await llama.dispose();
    }

    // The served int4 model answers like the library's int4 model.
    const int4 = await loadQuantizedModel(join(outputs, 'model-int4-g32'));
    const expected = tokenizer.decode(greedyDecode({ model: int4, prompt, maxNewTokens: 8 }).tokens);
    int4.dispose();
    const { child, url } = await startServe(['--model', join(outputs, 'model-int4-g32'), '--port', '0']);
    try {
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      const response = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: models.data[0]!.id, prompt: 'The Union is', max_tokens: 8, temperature: 0 }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { choices: { text: string }[]; usage: { prompt_tokens: number } };
      expect(body.usage.prompt_tokens).toBe(prompt.length);
      expect(body.choices[0]!.text).toBe(expected);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('names the config field on bad input and the stage on a bad --from', () => {
    const file = join(cwd, 'bad.yaml');
    writeFileSync(file, 'train:\n  steps: -3\n  stepz: 5\n');
    const bad = runCli(['pipeline', 'run', file], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('train.steps');
    expect(bad.stderr).toContain('stepz');
    const missing = runCli(['pipeline', 'run', join(cwd, 'nope.yaml')], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.yaml');
    const from = runCli(['pipeline', 'run', '--preset', 'smoke', '--from', 'trian'], { cwd, env: { DEEPLINE_LOG_LEVEL: 'warn' } });
    expect(from.code).toBe(1);
    expect(from.stderr).toContain("--from names unknown stage 'trian'");
    expect(runCli(['pipeline', 'fly'], { cwd }).code).toBe(2);
  });

  it('searches a grid with a nested run per trial and reports the best', () => {
    const file = join(cwd, 'search.yaml');
    writeFileSync(file, 'preset: smoke\nspace:\n  train.peakLr: [0.01, 0.003]\nmetric: evaluate.test_perplexity\n');
    const result = runCli(['pipeline', 'search', file], { cwd, env: { DEEPLINE_LOG_LEVEL: 'warn' } });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const values = lines.filter((l) => l.startsWith('trial')).map((l) => Number(l.split(/\s+/)[3]));
    expect(values).toHaveLength(2);
    const bestLine = lines.at(-1)!;
    const bestIndex = values[0]! <= values[1]! ? 0 : 1;
    expect(bestLine).toContain(`best: trial ${bestIndex}`);
    const runs = runsIn(join(cwd, 'mlruns'));
    const search = runs.find((r) => r.name === 'deepline-sotu-search')!;
    expect(search.status).toBe('3');
  });
});
