import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { DataError } from '../errors.js';

const GLOB_CHARS = /[*?[{]/;

/**
 * Turns paths, directories and glob patterns (`*`, `**`, `?`, `[abc]`, `{a,b}`) into a sorted,
 * de-duplicated list of files. Directories expand to every file below them. A pattern that
 * matches nothing is an error naming the pattern.
 */
export async function expandInputs(options: {
  patterns: string[];
  cwd?: string;
}): Promise<string[]> {
  const cwd = options.cwd ?? process.cwd();
  const found = new Set<string>();
  for (const pattern of options.patterns) {
    const before = found.size;
    if (!GLOB_CHARS.test(pattern)) {
      const path = resolve(cwd, pattern);
      // Synchronous: callers often list thousands of files, and a promise round trip per stat
      // costs far more CPU than the stat itself.
      const info = statOrUndefined(path);
      if (!info)
        throw new DataError(`input not found: ${pattern}`, {
          code: 'INPUT_MISSING',
          context: { file: pattern },
        });
      if (info.isDirectory()) for (const f of await walk(path)) found.add(f);
      else found.add(path);
      continue;
    }
    const absolute = resolve(cwd, pattern);
    const parts = absolute.split(sep);
    const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
    const base = parts.slice(0, firstGlob).join(sep) || sep;
    const matcher = globToRegExp(parts.slice(firstGlob).join('/'));
    const files = await walk(base).catch(() => [] as string[]);
    for (const file of files) {
      const rel = file
        .slice(base.length + (base.endsWith(sep) ? 0 : 1))
        .split(sep)
        .join('/');
      if (matcher.test(rel)) found.add(file);
    }
    if (found.size === before) {
      throw new DataError(`no file matches ${pattern}`, {
        code: 'INPUT_MISSING',
        context: { file: pattern },
      });
    }
  }
  return [...found].sort();
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Compiles a `/`-separated glob into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more whole directories.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end === -1) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end === -1) re += '\\{';
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((alt) => alt.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
          .join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
