import { startHttpServer } from '../httpServer/server.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { RouteTable } from '../shared/routeTable.js';
import { registerStatusPage, type DemoButtons, type StatusSource } from './statusRoutes.js';

export interface StatusServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Listening address; loopback unless told otherwise. */
  readonly host?: string;
  /**
   * Access token the page asks for. Bound beyond loopback the page always asks for one: this one,
   * or one generated at start (see {@link StatusServer.token}). On loopback only when given.
   */
  readonly token?: string;
  readonly logger: Logger;
  /** The bridge's clock, so countdowns agree with it (default: system time). */
  readonly clock?: Clock;
  /** How much faster than real time `clock` runs (the demo's sped-up time); default 1. */
  readonly timeScale?: number;
  /** Title on the page; default "Presence Bridge". */
  readonly name?: string;
  /** How many signals and Graph calls the timeline keeps (default 200). */
  readonly timelineSize?: number;
  /** Demo mode: buttons that publish example input messages to MQTT. */
  readonly demo?: DemoButtons;
}

export interface StatusServer {
  /** `http://HOST:PORT/` */
  readonly url: string;
  readonly port: number;
  /** The token the page asks for, or undefined when it asks for none (loopback, no token given). */
  readonly token: string | undefined;
  /** `url` with `?token=…` when a token is asked for (opening it once sets a cookie); else `url`. */
  readonly signInUrl: string;
  /** Live event clients and the bytes the server holds for them, not yet taken by their sockets. */
  stats(): { readonly clients: number; readonly bufferedBytes: number };
  close(): Promise<void>;
}

/**
 * The status page alone on a local server of its own: the same routes the `statusPage` feature
 * registers, on the same server the `http` feature runs (tests and tools that have a bridge but no
 * feature host use it).
 */
export async function startStatusServer(bridge: StatusSource, options: StatusServerOptions): Promise<StatusServer> {
  const routes = new RouteTable();
  const page = registerStatusPage(routes, bridge, {
    logger: options.logger,
    clock: options.clock ?? systemClock,
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.timelineSize !== undefined ? { timelineSize: options.timelineSize } : {}),
    ...(options.demo ? { demo: options.demo } : {}),
  });
  let server;
  try {
    server = await startHttpServer(routes, { port: options.port, logger: options.logger, ...(options.host !== undefined ? { host: options.host } : {}), ...(options.token !== undefined ? { token: options.token } : {}) });
  } catch (error) {
    page.close();
    throw error;
  }
  const started = server;
  return {
    url: started.url,
    port: started.port,
    token: started.token,
    signInUrl: started.signInUrl,
    stats: () => page.stats(),
    close: async () => {
      page.close();
      await started.close();
    },
  };
}
