import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The user MLflow records (`mlflow.user` and run `user_id`). */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

function findGitDir(start: string): string | undefined {
  let dir = resolve(start);
  while (true) {
    const candidate = join(dir, '.git');
    if (existsSync(candidate)) {
      if (statSync(candidate).isDirectory()) return candidate;
      // Worktrees and submodules: a `.git` file that points at the real directory.
      const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(candidate, 'utf8'));
      if (pointer) return resolve(dir, pointer[1]!.trim());
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Commit, branch and origin URL of the git checkout containing `start`, read from .git without spawning git. */
export function gitInfo(start: string): { commit?: string; branch?: string; repoURL?: string } {
  try {
    const gitDir = findGitDir(start);
    if (!gitDir) return {};
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
    // Worktrees keep refs in the common dir.
    const commonFile = join(gitDir, 'commondir');
    const common = existsSync(commonFile) ? resolve(gitDir, readFileSync(commonFile, 'utf8').trim()) : gitDir;
    let commit: string | undefined = ref ? undefined : head;
    if (ref) {
      for (const base of [gitDir, common]) {
        const refFile = join(base, ref);
        if (existsSync(refFile)) {
          commit = readFileSync(refFile, 'utf8').trim();
          break;
        }
      }
      const packed = join(common, 'packed-refs');
      if (!commit && existsSync(packed)) commit = new RegExp(`^([0-9a-f]{40}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(readFileSync(packed, 'utf8'))?.[1];
    }
    const config = existsSync(join(common, 'config')) ? readFileSync(join(common, 'config'), 'utf8') : '';
    const repoURL = /\[remote "origin"\][^[]*?url\s*=\s*(\S+)/.exec(config)?.[1];
    return { commit, branch: ref?.replace(/^refs\/heads\//, ''), repoURL };
  } catch {
    return {};
  }
}

/** MLflow's reserved source tags for a run started from this process. */
export function sourceTags(options: { cwd?: string; entryPoint?: string } = {}): Record<string, string> {
  const entry = options.entryPoint ?? process.argv[1] ?? 'node';
  const tags: Record<string, string> = {
    'mlflow.user': currentUser(),
    'mlflow.source.name': entry,
    'mlflow.source.type': 'LOCAL',
  };
  const git = gitInfo(options.cwd ?? process.cwd());
  if (git.commit) tags['mlflow.source.git.commit'] = git.commit;
  if (git.branch) tags['mlflow.source.git.branch'] = git.branch;
  if (git.repoURL) tags['mlflow.source.git.repoURL'] = git.repoURL;
  return tags;
}
