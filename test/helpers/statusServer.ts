import { startHttpServer, type LocalHttpServer } from '../../src/httpServer/server.js';
import type { Logger } from '../../src/logger.js';
import { systemClock, type Clock } from '../../src/shared/clock.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { registerStatusPage, type DemoButtons, type StatusSource } from '../../src/statusPage/index.js';

/**
 * The status page's routes alone on the one local HTTP server, for tests that have a bridge (or a
 * stand-in) but no feature host: the same registerStatusPage and startHttpServer the `statusPage`
 * and `http` features use.
 */
export interface StatusServer extends Omit<LocalHttpServer, 'stats'> {
  /** Live event clients and the bytes the server holds for them. */
  stats(): { readonly clients: number; readonly bufferedBytes: number };
}

export async function startStatusServer(
  bridge: StatusSource,
  options: { port: number; host?: string; token?: string; logger: Logger; clock?: Clock; timelineSize?: number; demo?: DemoButtons },
): Promise<StatusServer> {
  const routes = new RouteTable();
  const page = registerStatusPage(routes, bridge, {
    logger: options.logger,
    clock: options.clock ?? systemClock,
    ...(options.timelineSize !== undefined ? { timelineSize: options.timelineSize } : {}),
    ...(options.demo ? { demo: options.demo } : {}),
  });
  let server: LocalHttpServer;
  try {
    server = await startHttpServer(routes, { port: options.port, logger: options.logger, ...(options.host !== undefined ? { host: options.host } : {}), ...(options.token !== undefined ? { token: options.token } : {}) });
  } catch (error) {
    page.close();
    throw error;
  }
  return {
    url: server.url,
    port: server.port,
    token: server.token,
    signInUrl: server.signInUrl,
    stats: () => page.stats(),
    close: async () => {
      page.close();
      await server.close();
    },
  };
}
