import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteRequest, RouteResponse } from '../../src/feature.js';
import type { RouteTable } from '../../src/shared/routeTable.js';

/**
 * A stand-in for the one local HTTP server (src/httpServer/, written at the same time in another
 * branch): node:http serving a RouteTable with the contract docs/http-api.md states: body read up to
 * a limit (413), 404 and 405 (with Allow) as `{ "error": … }`, the bearer token checked for
 * `access: 'token'` routes when a token is set (timing-safe), JSON bodies sent as application/json.
 * After the merge the tests switch to the real server.
 */
export interface RouteServer {
  readonly url: string;
  close(): Promise<void>;
}

const SERVER_BODY_LIMIT = 64 * 1024;

function send(res: ServerResponse, method: string, response: RouteResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload = '';
  if (response.body !== undefined) {
    if (typeof response.body === 'string') payload = response.body;
    else {
      payload = JSON.stringify(response.body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
  }
  res.writeHead(response.status, headers);
  res.end(method === 'HEAD' ? undefined : payload);
}

const errorResponse = (status: number, code: string, message: string, headers?: Record<string, string>): RouteResponse => ({ status, headers, body: { error: { code, message } } });

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > SERVER_BODY_LIMIT) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function serveRoutes(routes: RouteTable, options: { token?: string } = {}): Promise<RouteServer> {
  // as the real server: a token shorter than 16 characters is not a secret
  if (options.token !== undefined && options.token.length < 16) throw new Error('the HTTP access token must be at least 16 characters');
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 'GET', errorResponse(500, 'internalError', 'the route server failed'));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = routes.match(method, url.pathname);
    if (match.kind === 'none') return send(res, method, errorResponse(404, 'notFound', `no route ${url.pathname}`));
    if (match.kind === 'method') return send(res, method, errorResponse(405, 'methodNotAllowed', `${method} is not allowed here`, { allow: match.allowed.join(', ') }));
    if (match.access === 'token' && options.token !== undefined) {
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (!sameToken(given, options.token)) {
        return send(res, method, errorResponse(401, 'unauthorized', 'send the server\'s token as Authorization: Bearer <token>', { 'www-authenticate': 'Bearer' }));
      }
    }
    const body = await readBody(req);
    if (body === null) return send(res, method, errorResponse(413, 'payloadTooLarge', 'the body is too large'));
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const request: RouteRequest = { method, path: url.pathname, params: match.params, query: url.searchParams, headers, body, remoteAddress: req.socket.remoteAddress };
    send(res, method, await match.handler(request));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
