export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

export interface LoggerOptions {
  /** Minimum level printed. Default: `DEEPLINE_LOG_LEVEL` or 'info'. */
  level?: LogLevel;
  /** Prefix shown as `[scope]`. */
  scope?: string;
  /** 'text' for people, 'json' for one JSON object per line. Default: text on a TTY, else json. */
  format?: 'text' | 'json';
  /** Where lines go. Default: process.stderr (stdout stays clean for command output). */
  stream?: NodeJS.WritableStream;
}

/** Creates a leveled logger that writes to stderr by default. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLevel(process.env.DEEPLINE_LOG_LEVEL) ?? 'info';
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? ((stream as { isTTY?: boolean }).isTTY ? 'text' : 'json');
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    if (format === 'json') {
      const record = { time: new Date().toISOString(), level: lvl, scope: options.scope, message, ...fields };
      stream.write(`${JSON.stringify(record)}\n`);
      return;
    }
    const scope = options.scope ? `[${options.scope}] ` : '';
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    stream.write(`${lvl.padEnd(5)} ${scope}${message}${extra}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (scope) =>
      createLogger({ level, format, stream, scope: options.scope ? `${options.scope}:${scope}` : scope }),
  };
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value && value in order ? (value as LogLevel) : undefined;
}
