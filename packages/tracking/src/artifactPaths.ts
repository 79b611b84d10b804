import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrackingError } from './errors.js';
import type { ArtifactFile } from './types.js';

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

/** The Content-Type MLflow's client would send for this file. */
export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Checks a relative artifact path (no `..`, not absolute) and returns it in posix form. */
export function cleanArtifactPath(path: string | undefined, field = 'artifactPath'): string {
  if (path === undefined || path === '' || path === '.') return '';
  const normal = posix.normalize(path.split(sep).join('/')).replace(/\/+$/, '');
  if (normal.startsWith('/') || normal === '..' || normal.startsWith('../')) {
    throw new TrackingError(`${field} must be a relative path inside the run's artifacts, got '${path}'`, { code: 'INVALID_PATH', context: { field } });
  }
  return normal === '.' ? '' : normal;
}

/** Every file under `localPath` with the artifact path it should get under `artifactPath`. */
export async function filesToUpload(localPath: string, artifactPath: string): Promise<{ local: string; remote: string }[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(localPath);
  } catch (error) {
    throw new TrackingError(`artifact '${localPath}' does not exist`, { code: 'ARTIFACT_NOT_FOUND', context: { file: localPath }, cause: error });
  }
  const prefix = artifactPath === '' ? '' : `${artifactPath}/`;
  if (!info.isDirectory()) return [{ local: localPath, remote: `${prefix}${basename(localPath)}` }];
  const out: { local: string; remote: string }[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push({ local: full, remote: `${prefix}${basename(localPath)}/${relative(localPath, full).split(sep).join('/')}` });
    }
  };
  await walk(localPath);
  return out;
}

/** The local directory of a `file://` artifact URI (or plain path). */
export function localArtifactDir(artifactUri: string): string {
  if (artifactUri.startsWith('file:')) return fileURLToPath(artifactUri);
  if (/^[a-z][a-z0-9+.-]*:/i.test(artifactUri)) {
    throw new TrackingError(`artifact URI '${artifactUri}' is not local`, { code: 'UNSUPPORTED_ARTIFACT_URI', context: { field: 'artifact_uri' } });
  }
  return artifactUri;
}

/** Copies into a local artifact root (FileStore, or a server with `file://` artifacts). */
export async function copyToLocalArtifacts(root: string, localPath: string, artifactPath: string): Promise<void> {
  for (const { local, remote } of await filesToUpload(localPath, artifactPath)) {
    const target = join(root, ...remote.split('/'));
    await mkdir(join(target, '..'), { recursive: true });
    await cp(local, target);
  }
}

/** Lists one directory level of a local artifact root, MLflow-style (paths relative to the root). */
export async function listLocalArtifacts(root: string, path: string): Promise<ArtifactFile[]> {
  const dir = join(root, ...(path === '' ? [] : path.split('/')));
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: ArtifactFile[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = path === '' ? entry.name : `${path}/${entry.name}`;
    if (entry.isDirectory()) out.push({ path: rel, isDir: true });
    else out.push({ path: rel, isDir: false, fileSize: (await stat(join(dir, entry.name))).size });
  }
  return out;
}
