import { startHttpServer } from '../../src/httpServer/server.js';
import type { RouteTable } from '../../src/shared/routeTable.js';
import { capturingLogger } from '../helpers/logger.js';

export interface RouteServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

/** The API's routes on the one local HTTP server (src/httpServer/), on loopback and a free port. */
export async function serveRoutes(routes: RouteTable, options: { token?: string } = {}): Promise<RouteServer> {
  const server = await startHttpServer(routes, { port: 0, host: '127.0.0.1', logger: capturingLogger(), ...(options.token === undefined ? {} : { token: options.token }) });
  return { url: server.url.replace(/\/$/, ''), close: () => server.close() };
}
