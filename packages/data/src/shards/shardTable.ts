import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as ArrowModule from 'apache-arrow';
import { DataError } from '../errors.js';

let arrowModule: typeof ArrowModule | undefined;

/**
 * apache-arrow, loaded on first use: importing it costs ~0.2 s of start-up that cleaning
 * runs never need. (Synchronous, so encode/decode keep their signatures.)
 */
function arrow(): typeof ArrowModule {
  arrowModule ??= createRequire(import.meta.url)('apache-arrow') as typeof ArrowModule;
  return arrowModule;
}

/** One shard in memory: packed token ids and document boundaries (`offsets[i]..offsets[i+1]`). */
export interface ShardContents {
  ids: string[];
  labels: Array<string | null>;
  /** All documents' tokens back to back. */
  tokens: Int32Array;
  /** documents + 1 offsets into `tokens`. */
  offsets: Int32Array;
}

/**
 * Encodes a shard as an Arrow IPC file with columns id (utf8), tokens (list<int32>) and label
 * (utf8). A list column stores exactly "flat values + offsets", so other Arrow readers
 * (pyarrow, arrow-rs…) see one row per document and the packed ids come back without copies.
 */
export function encodeShard(contents: ShardContents): Uint8Array {
  const { Field, Int32, List, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray } =
    arrow();
  const n = contents.ids.length;
  const child = makeData({
    type: new Int32(),
    length: contents.tokens.length,
    data: contents.tokens,
  });
  const tokens = makeData({
    type: new List(new Field('item', new Int32(), false)),
    length: n,
    nullCount: 0,
    valueOffsets: contents.offsets,
    child,
  });
  const table = new Table({
    id: vectorFromArray(contents.ids, new Utf8()),
    tokens: makeVector(tokens),
    label: vectorFromArray(contents.labels, new Utf8()),
  });
  return tableToIPC(table, 'file');
}

/** Decodes a shard written by {@link encodeShard} (any Arrow writer producing the same columns works). */
export function decodeShard(bytes: Uint8Array, file = '<buffer>'): ShardContents {
  let table: ArrowModule.Table;
  try {
    table = arrow().tableFromIPC(bytes);
  } catch (cause) {
    throw new DataError(`${file} is not an Arrow IPC file: ${(cause as Error).message}`, {
      code: 'SHARD',
      context: { file },
      cause,
    });
  }
  const column = table.getChild('tokens');
  if (!column)
    throw new DataError(`${file} has no "tokens" column`, {
      code: 'SHARD',
      context: { file, field: 'tokens' },
    });
  const ids = (table.getChild('id')?.toArray() as string[] | undefined) ?? [];
  const labelColumn = table.getChild('label');
  const labels: Array<string | null> = [];
  const offsets = new Int32Array(table.numRows + 1);
  let total = 0;
  for (const data of column.data) {
    const values = data.children[0]!.values as Int32Array;
    total += data.valueOffsets[data.length]! - data.valueOffsets[0]!;
    if (!(values instanceof Int32Array))
      throw new DataError(`${file}: tokens must be list<int32>`, {
        code: 'SHARD',
        context: { file },
      });
  }
  const tokens = new Int32Array(total);
  let row = 0;
  let at = 0;
  for (const data of column.data) {
    const values = data.children[0]!.values as Int32Array;
    const vo = data.valueOffsets;
    const childOffset = data.children[0]!.offset;
    tokens.set(values.subarray(childOffset + vo[0]!, childOffset + vo[data.length]!), at);
    for (let i = 0; i < data.length; i++) offsets[row + i + 1] = at + (vo[i + 1]! - vo[0]!);
    at += vo[data.length]! - vo[0]!;
    row += data.length;
  }
  for (let i = 0; i < table.numRows; i++)
    labels.push((labelColumn?.get(i) as string | null | undefined) ?? null);
  return {
    ids:
      ids.length === table.numRows
        ? [...ids]
        : Array.from({ length: table.numRows }, (_, i) => String(i)),
    labels,
    tokens,
    offsets,
  };
}

/** Reads a shard file, checking its SHA-256 against the manifest when one is given. */
export async function readShardFile(options: {
  file: string;
  sha256?: string;
}): Promise<ShardContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(options.file);
  } catch (cause) {
    throw new DataError(`cannot read shard ${options.file}: ${(cause as Error).message}`, {
      code: 'SHARD',
      context: { file: options.file },
      cause,
    });
  }
  if (options.sha256) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== options.sha256) {
      throw new DataError(
        `shard ${options.file} is corrupt: sha256 ${actual} != manifest ${options.sha256}`,
        {
          code: 'SHARD_HASH',
          context: { file: options.file },
        },
      );
    }
  }
  return decodeShard(bytes, options.file);
}
