import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { gitInfo, sourceTags } from '../src/sourceTags.js';

describe('source tags', () => {
  it('reads commit, branch and origin from .git (loose ref, packed ref, detached HEAD) without git', async () => {
    const dir = await makeTempDir();
    try {
      const git = join(dir, '.git');
      await mkdir(join(git, 'refs', 'heads'), { recursive: true });
      await writeFile(join(git, 'HEAD'), 'ref: refs/heads/main\n');
      await writeFile(join(git, 'refs', 'heads', 'main'), `${'a'.repeat(40)}\n`);
      await writeFile(join(git, 'config'), '[core]\n\tbare = false\n[remote "origin"]\n\turl = https://example.invalid/deepline.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n');
      await mkdir(join(dir, 'src', 'deep'), { recursive: true });
      expect(gitInfo(join(dir, 'src', 'deep'))).toEqual({ commit: 'a'.repeat(40), branch: 'main', repoURL: 'https://example.invalid/deepline.git' });
      await writeFile(join(git, 'HEAD'), 'ref: refs/heads/feature/x\n');
      await writeFile(join(git, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${'b'.repeat(40)} refs/heads/feature/x\n`);
      expect(gitInfo(dir)).toMatchObject({ commit: 'b'.repeat(40), branch: 'feature/x' });
      await writeFile(join(git, 'HEAD'), `${'c'.repeat(40)}\n`);
      expect(gitInfo(dir)).toMatchObject({ commit: 'c'.repeat(40), branch: undefined });
      const tags = sourceTags({ cwd: dir, entryPoint: 'train.ts' });
      expect(tags).toMatchObject({ 'mlflow.source.name': 'train.ts', 'mlflow.source.type': 'LOCAL', 'mlflow.source.git.commit': 'c'.repeat(40) });
      expect(tags['mlflow.user']).toBeTruthy();
    } finally {
      await removeDir(dir);
    }
  });
});
