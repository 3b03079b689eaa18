import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteRegistry } from '../../src/feature.js';

/**
 * A minimal node:http server for a RouteTable, on a free loopback port: enough to scrape routes
 * over real HTTP until the one local HTTP server (branch h17http) is merged. No token guard.
 */
export async function serveRoutes(routes: RouteRegistry): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    void answer(routes, request).then(
      ({ status, headers, body }) => {
        response.writeHead(status, headers);
        response.end(body);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function answer(routes: RouteRegistry, request: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = routes.match(request.method ?? 'GET', url.pathname);
  if (match.kind === 'none') return { status: 404, headers: {}, body: '' };
  if (match.kind === 'method') return { status: 405, headers: { allow: match.allowed.join(', ') }, body: '' };
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const result = await match.handler({ method: request.method ?? 'GET', path: url.pathname, params: match.params, query: url.searchParams, headers, body: '', remoteAddress: request.socket.remoteAddress });
  const body = result.body === undefined ? '' : typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  return { status: result.status, headers: { ...(result.headers ?? {}) }, body };
}
