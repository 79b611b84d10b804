import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** True when the file starts with the gzip magic bytes (whatever its extension). */
export async function isGzipFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Opens a file as a byte stream, transparently gunzipping it when it is gzip-compressed.
 * `onRawBytes` sees the on-disk byte count (for throughput reporting).
 */
export async function openInput(file: string, onRawBytes?: (n: number) => void): Promise<Readable> {
  const gzip = await isGzipFile(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (onRawBytes) raw.on('data', (chunk) => onRawBytes((chunk as Buffer).length));
  if (!gzip) return raw;
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/** Path without a trailing `.gz`, so format detection sees the inner extension. */
export function stripGzipExtension(file: string): string {
  return file.toLowerCase().endsWith('.gz') ? file.slice(0, -3) : file;
}
