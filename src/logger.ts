/**
 * The one logging interface of the library. Backed by Homebridge's logger in the plugin and by
 * a console logger in the CLI. Library code never touches `console`.
 */
export interface Logger {
  debug(message: string, ...parameters: unknown[]): void;
  info(message: string, ...parameters: unknown[]): void;
  warn(message: string, ...parameters: unknown[]): void;
  error(message: string, ...parameters: unknown[]): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that prefixes every line, for one part of the bridge (e.g. `[mqtt]`). */
export function prefixedLogger(logger: Logger, prefix: string): Logger {
  return {
    debug: (m, ...p) => logger.debug(`${prefix} ${m}`, ...p),
    info: (m, ...p) => logger.info(`${prefix} ${m}`, ...p),
    warn: (m, ...p) => logger.warn(`${prefix} ${m}`, ...p),
    error: (m, ...p) => logger.error(`${prefix} ${m}`, ...p),
  };
}

/** Message of an unknown thrown value, for log lines. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
