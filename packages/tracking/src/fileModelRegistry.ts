import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrackingError } from './errors.js';
import { readMlflowYaml, writeMlflowYaml } from './mlflowYaml.js';
import type { ModelVersion, RegisteredModel } from './types.js';

function checkName(name: string, field: string): void {
  if (name === '' || /[/\\%]/.test(name) || name === '.' || name === '..') {
    throw new TrackingError(`invalid ${field} '${name}': must be non-empty without '/', '\\' or '%'`, {
      code: 'INVALID_VALUE',
      context: { field, error_code: 'INVALID_PARAMETER_VALUE' },
    });
  }
}

const notFound = (what: string) => new TrackingError(`${what} not found`, { code: 'NOT_FOUND', context: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });

/** MLflow's file model registry: `models/<name>/meta.yaml`, `version-<n>/meta.yaml`, `aliases/<alias>`. */
export class FileModelRegistry {
  constructor(private readonly dir: string) {}

  private modelDir(name: string): string {
    checkName(name, 'name');
    return join(this.dir, name);
  }

  private async aliases(name: string): Promise<Record<string, string>> {
    const dir = join(this.modelDir(name), 'aliases');
    if (!existsSync(dir)) return {};
    const out: Record<string, string> = {};
    for (const alias of await readdir(dir)) out[alias] = (await readFile(join(dir, alias), 'utf8')).trim();
    return out;
  }

  async createRegisteredModel(name: string): Promise<RegisteredModel> {
    const dir = this.modelDir(name);
    if (existsSync(join(dir, 'meta.yaml'))) return this.getRegisteredModel(name);
    const now = Date.now();
    await mkdir(dir, { recursive: true });
    await writeMlflowYaml(join(dir, 'meta.yaml'), { creation_timestamp: now, description: null, last_updated_timestamp: now, name });
    return this.getRegisteredModel(name);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const file = join(this.modelDir(name), 'meta.yaml');
    if (!existsSync(file)) throw notFound(`registered model '${name}'`);
    const meta = await readMlflowYaml(file);
    return {
      name: String(meta.name),
      creationTimestamp: meta.creation_timestamp ?? undefined,
      lastUpdatedTimestamp: meta.last_updated_timestamp ?? undefined,
      description: meta.description ?? undefined,
      aliases: await this.aliases(name),
      tags: {},
    };
  }

  private async touch(name: string, now: number): Promise<void> {
    const file = join(this.modelDir(name), 'meta.yaml');
    const meta = await readMlflowYaml(file);
    await writeMlflowYaml(file, { ...meta, last_updated_timestamp: now });
  }

  async createModelVersion(options: { name: string; source: string; runId?: string }): Promise<ModelVersion> {
    const dir = this.modelDir(options.name);
    if (!existsSync(join(dir, 'meta.yaml'))) throw notFound(`registered model '${options.name}'`);
    const versions = (await readdir(dir)).map((d) => /^version-(\d+)$/.exec(d)?.[1]).filter((v) => v !== undefined).map(Number);
    const version = versions.length === 0 ? 1 : Math.max(...versions) + 1;
    const now = Date.now();
    await writeMlflowYaml(join(dir, `version-${version}`, 'meta.yaml'), {
      aliases: [],
      creation_timestamp: now,
      current_stage: 'None',
      description: null,
      last_updated_timestamp: now,
      name: options.name,
      run_id: options.runId ?? null,
      run_link: null,
      source: options.source,
      status: 'READY',
      status_message: null,
      storage_location: options.source,
      user_id: null,
      version,
    });
    await this.touch(options.name, now);
    return this.getModelVersion(options.name, String(version));
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const file = join(this.modelDir(name), `version-${version}`, 'meta.yaml');
    if (!/^\d+$/.test(version) || !existsSync(file)) throw notFound(`model version ${name}/${version}`);
    const meta = await readMlflowYaml(file);
    const aliases = Object.entries(await this.aliases(name)).filter(([, v]) => v === version).map(([a]) => a);
    return {
      name,
      version: String(meta.version),
      source: String(meta.source),
      runId: meta.run_id ?? undefined,
      status: String(meta.status ?? 'READY'),
      creationTimestamp: meta.creation_timestamp ?? undefined,
      aliases,
    };
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    checkName(alias, 'alias');
    await this.getModelVersion(name, version);
    await mkdir(join(this.modelDir(name), 'aliases'), { recursive: true });
    await writeFile(join(this.modelDir(name), 'aliases', alias), version);
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    checkName(alias, 'alias');
    const version = (await this.aliases(name))[alias];
    if (version === undefined) throw notFound(`alias '${alias}' of registered model '${name}'`);
    return this.getModelVersion(name, version);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    checkName(alias, 'alias');
    await rm(join(this.modelDir(name), 'aliases', alias), { force: true });
  }
}
