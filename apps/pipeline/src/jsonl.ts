import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Streams records to a JSON-lines file; returns how many were written. */
export async function writeJsonl(path: string, records: AsyncIterable<unknown> | Iterable<unknown>): Promise<number> {
  const out = createWriteStream(path);
  let count = 0;
  for await (const record of records) {
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
    count++;
  }
  out.end();
  await once(out, 'close');
  return count;
}

/** Streams the records of a JSON-lines file written by writeJsonl. */
export async function* readJsonlRecords<T>(path: string): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line.length > 0) yield JSON.parse(line) as T;
}
