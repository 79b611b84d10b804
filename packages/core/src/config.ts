import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { CoreError } from './errors.js';

export interface LoadConfigOptions<S extends z.ZodType> {
  /** Path of the YAML (or JSON) file; named in every error. */
  path: string;
  /** zod schema the parsed document must satisfy (defaults are applied). */
  schema: S;
  /** Values merged over the file's top level before validation (e.g. CLI flags). */
  overrides?: Record<string, unknown>;
}

/** Reads, parses and validates a YAML config file; errors name the file and the field path. */
export async function loadYamlConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(options.path, 'utf8');
  } catch (cause) {
    throw new CoreError(`cannot read config file ${options.path}: ${(cause as Error).message}`, {
      code: 'CONFIG_READ',
      context: { file: options.path },
      cause,
    });
  }
  return parseYamlConfig({ text, schema: options.schema, source: options.path, overrides: options.overrides });
}

export interface ParseConfigOptions<S extends z.ZodType> {
  text: string;
  schema: S;
  /** Name used in errors (a file path or '<inline>'). */
  source?: string;
  overrides?: Record<string, unknown>;
}

/** Parses YAML text and validates it with zod. */
export function parseYamlConfig<S extends z.ZodType>(options: ParseConfigOptions<S>): z.output<S> {
  const source = options.source ?? '<inline>';
  const doc = parseDocument(options.text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new CoreError(`invalid YAML in ${source}${line ? ` at line ${line}` : ''}: ${first.message}`, {
      code: 'CONFIG_SYNTAX',
      context: { file: source, line },
    });
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CoreError(`config ${source} must be a mapping at the top level`, {
      code: 'CONFIG_SHAPE',
      context: { file: source },
    });
  }
  return validateConfig({ value: { ...raw, ...options.overrides }, schema: options.schema, source });
}

/** Validates an object against a schema; the error lists every failing field path. */
export function validateConfig<S extends z.ZodType>(options: {
  value: unknown;
  schema: S;
  source?: string;
}): z.output<S> {
  const result = options.schema.safeParse(options.value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const lines = issues.map((i) => `  ${i.field}: ${i.message}`).join('\n');
  throw new CoreError(`invalid config ${options.source ?? '<inline>'}:\n${lines}`, {
    code: 'CONFIG_INVALID',
    context: { file: options.source, field: issues[0]?.field, issues },
  });
}
