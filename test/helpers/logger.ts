import type { Logger } from '../../src/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
}

export interface CapturingLogger extends Logger {
  /** Every line logged so far, debug included, in order (parameters are not kept). */
  readonly lines: LogLine[];
  /** How many lines of `level` match `pattern`. */
  count(level: LogLevel, pattern: RegExp): number;
}

/** A Logger that keeps its lines; `onLine`, when given, runs after each one is kept. */
export function capturingLogger(onLine?: (line: LogLine) => void): CapturingLogger {
  const lines: LogLine[] = [];
  const at = (level: LogLevel) => (message: string) => {
    const line = { level, message };
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
  };
}
