import type { Logging } from 'homebridge';
import type { Logger } from '../logger.js';

/** The library's Logger backed by Homebridge's per-platform log (it adds the `[Presence Bridge]` prefix). */
export function homebridgeLogger(log: Logging): Logger {
  return {
    debug: (message, ...parameters) => log.debug(message, ...parameters),
    info: (message, ...parameters) => log.info(message, ...parameters),
    warn: (message, ...parameters) => log.warn(message, ...parameters),
    error: (message, ...parameters) => log.error(message, ...parameters),
  };
}
