import { createRequire } from 'node:module';
import { DeeplineError } from '@deepline/core';
import { type Command, type CommandContext, UsageError } from './command.js';
import { commands } from './commands/index.js';

const require = createRequire(import.meta.url);

export function cliVersion(): string {
  return (require('../package.json') as { version: string }).version;
}

function helpText(list: Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'deepline — raw text to a served, quantized DeepSeek-style model on TensorFlow.js',
    '',
    'Usage: deepline <command> [options]',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options: --help, --version. Run `deepline <command> --help` for a command.',
    'Environment: DEEPLINE_BACKEND=auto|node-gpu|node|webgpu|wasm|cpu, DEEPLINE_LOG_LEVEL=debug|info|warn|error',
    '',
  ].join('\n');
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: string[], io: Partial<Pick<CommandContext, 'stdout' | 'stderr'>> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(helpText(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    stdout.write(`${cliVersion()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    stderr.write(`deepline: unknown command '${name}'\n\n${helpText(commands)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run({ argv: rest, stdout, stderr });
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`deepline ${name}: ${error.message}\nUsage: ${command.usage}\n`);
      return 2;
    }
    if (error instanceof DeeplineError) {
      stderr.write(`deepline ${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
