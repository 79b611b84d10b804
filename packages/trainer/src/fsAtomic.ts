import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes `data` to `path` and fsyncs it before returning. */
export async function writeFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs every regular file under `dir`, then the directories themselves. */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) await fsyncPath(path, 'r+');
  }
  await fsyncDir(dir);
}

/** fsyncs a directory entry list (ignored where the platform cannot, e.g. Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir, 'r');
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code !== 'EISDIR' &&
      (error as NodeJS.ErrnoException).code !== 'EPERM'
    )
      throw error;
  }
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Moves a finished temp directory to `target` atomically. An existing `target` (the same
 * step saved again after a resume) is first moved aside, then removed.
 */
export async function renameDirAtomic(temp: string, target: string, parent: string): Promise<void> {
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  if (exists) {
    const aside = `${temp}.old`;
    await rename(target, aside);
    await rename(temp, target);
    await rm(aside, { recursive: true, force: true });
  } else {
    await rename(temp, target);
  }
  await fsyncDir(parent);
}
