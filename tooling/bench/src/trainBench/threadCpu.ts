import { readFileSync } from 'node:fs';

/**
 * CPU time (user + system, ms) of the calling thread, from /proc/thread-self/stat (Linux;
 * 10 ms ticks). NaN elsewhere. Worker threads share process.cpuUsage(), so per-rank CPU
 * time needs this.
 */
export function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}
