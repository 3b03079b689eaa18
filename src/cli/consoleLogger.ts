import type { Writable } from 'node:stream';
import { formatWithOptions } from 'node:util';
import type { Logger } from '../logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
const LABEL: Readonly<Record<LogLevel, string>> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };
const COLOUR: Readonly<Record<LogLevel, string>> = { debug: '\u001b[90m', info: '\u001b[36m', warn: '\u001b[33m', error: '\u001b[31m' };
const RESET = '\u001b[0m';

export interface ConsoleLoggerOptions {
  /** Where lines go (the CLI passes its stdout or stderr). */
  readonly stream: Writable & { isTTY?: boolean };
  /** Lowest level written; default `info`. */
  readonly level?: LogLevel;
  /** Colours: default only when the stream is a TTY and NO_COLOR is unset. */
  readonly colour?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Timestamp source (ms since epoch); default Date.now. */
  readonly now?: () => number;
}

/** `debug`, `info`, `warn`, `error` from a string such as PRESENCE_BRIDGE_LOG_LEVEL, else undefined. */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  const t = text?.trim().toLowerCase();
  return t === 'debug' || t === 'info' || t === 'warn' || t === 'error' ? t : undefined;
}

/**
 * The CLI's Logger: one line per message, `ISO-time LEVEL message`, colours only on a terminal.
 * Extra parameters are formatted like console.log does.
 */
export function createConsoleLogger(options: ConsoleLoggerOptions): Logger {
  const env = options.env ?? {};
  const min = ORDER[options.level ?? 'info'];
  const colour = options.colour ?? (options.stream.isTTY === true && env.NO_COLOR === undefined);
  const now = options.now ?? Date.now;
  const write = (level: LogLevel, message: string, parameters: unknown[]): void => {
    if (ORDER[level] < min) return;
    const text = parameters.length > 0 ? formatWithOptions({ colors: colour }, message, ...parameters) : message;
    const stamp = new Date(now()).toISOString();
    const label = colour ? `${COLOUR[level]}${LABEL[level]}${RESET}` : LABEL[level];
    try {
      options.stream.write(`${stamp} ${label} ${text}\n`);
    } catch {
      // a closed stream must not take the bridge down
    }
  };
  return {
    debug: (m, ...p) => write('debug', m, p),
    info: (m, ...p) => write('info', m, p),
    warn: (m, ...p) => write('warn', m, p),
    error: (m, ...p) => write('error', m, p),
  };
}
