import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { TrackingError } from './errors.js';

/**
 * YAML as MLflow's FileStore writes it (PyYAML `safe_dump`, block style, sorted keys):
 * YAML 1.1 quoting, so strings such as '123', 'yes' or '' keep their type for PyYAML.
 */
export function toMlflowYaml(data: Record<string, unknown>): string {
  return stringify(data, { version: '1.1', singleQuote: true, lineWidth: 0, sortMapEntries: true });
}

/** Writes a meta.yaml atomically (temp file + rename), so readers never see half a file. */
export async function writeMlflowYaml(file: string, data: Record<string, unknown>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = join(dirname(file), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  await writeFile(temp, toMlflowYaml(data));
  await rename(temp, file);
}

/** Reads a meta.yaml; throws a TrackingError naming the file when it is missing or malformed. */
export async function readMlflowYaml(file: string): Promise<Record<string, any>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TrackingError(`cannot read ${file}: ${(error as Error).message}`, { code: 'MALFORMED_STORE', context: { file }, cause: error });
  }
  let data: unknown;
  try {
    data = parse(text, { version: '1.1' });
  } catch (error) {
    throw new TrackingError(`${file} is not valid YAML: ${(error as Error).message}`, { code: 'MALFORMED_STORE', context: { file }, cause: error });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new TrackingError(`${file} does not hold a YAML mapping`, { code: 'MALFORMED_STORE', context: { file } });
  }
  return data as Record<string, any>;
}
