import type { Logger } from '../../src/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  /** What was passed after the message (an Error, an object), as given. */
  readonly parameters: readonly unknown[];
}

export interface CapturingLogger extends Logger {
  /** Every line logged so far, debug included, in order. */
  readonly lines: LogLine[];
  /** How many lines of `level` match `pattern`. */
  count(level: LogLevel, pattern: RegExp): number;
  /**
   * Every line as text, `level message`, then the parameters when there are any (an Error as its
   * message and stack, anything else as JSON): for substring checks and for "no secret in the log".
   */
  texts(): string[];
}

function renderParameter(parameter: unknown): string {
  if (parameter instanceof Error) return `${parameter.message} ${String(parameter.stack)}`;
  return JSON.stringify(parameter) ?? String(parameter);
}

/** One line as `texts()` shows it. */
export function lineText(line: LogLine): string {
  const head = `${line.level} ${line.message}`;
  return line.parameters.length === 0 ? head : `${head} ${line.parameters.map(renderParameter).join(' ')}`;
}

/**
 * The one capturing Logger of the tests: keeps its lines; `onLine`, when given, runs after each
 * one is kept (to wake a waiter, or to look at the world at the moment a line is logged).
 */
export function capturingLogger(onLine?: (line: LogLine) => void): CapturingLogger {
  const lines: LogLine[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, ...parameters: unknown[]) => {
      const line = { level, message, parameters };
      lines.push(line);
      onLine?.(line);
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    count: (level, pattern) => lines.filter((l) => l.level === level && pattern.test(l.message)).length,
    texts: () => lines.map(lineText),
  };
}
