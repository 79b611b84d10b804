export { main, cliVersion } from './main.js';
export { commands } from './commands/index.js';
export { type Command, type CommandContext, UsageError } from './command.js';
export { formatDoctor } from './commands/doctor.js';
