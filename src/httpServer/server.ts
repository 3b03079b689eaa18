import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResponseStream, RouteRegistry, RouteRequest, RouteResponse } from '../feature.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { BodyTooLargeError, cookieValue, errorBody, isLoopbackHost, readBody, sameSecret, sendJson } from '../shared/httpHelpers.js';

/** A token shorter than this is refused: it would not be a secret. */
export const MIN_TOKEN_LENGTH = 16;
/** Largest request body a route reads unless it asks for another limit. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Open event streams get a comment this often, so proxies and browsers keep them. */
const HEARTBEAT_MS = 15_000;

export interface HttpServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Listening address; loopback unless told otherwise. */
  readonly host?: string;
  /**
   * Access token for `token` routes. Bound beyond loopback one is always asked for: this one, or
   * one generated at start (see {@link LocalHttpServer.token}). On loopback only when given.
   */
  readonly token?: string;
  readonly logger: Logger;
}

export interface LocalHttpServer {
  /** `http://HOST:PORT/` */
  readonly url: string;
  readonly port: number;
  /** The token `token` routes ask for, or undefined when they ask for none (loopback, no token given). */
  readonly token: string | undefined;
  /** `url` with `?token=…` when a token is asked for (opening it once sets a cookie); else `url`. */
  readonly signInUrl: string;
  /** Open event streams and the bytes they hold, not yet taken by their sockets. */
  stats(): { readonly streams: number; readonly bufferedBytes: number };
  close(): Promise<void>;
}

/** The token to ask for: the given one (checked), one generated beyond loopback, else none. */
export function accessToken(host: string, given: string | undefined): string | undefined {
  if (given !== undefined && given.length < MIN_TOKEN_LENGTH) throw new Error(`the HTTP access token must be at least ${MIN_TOKEN_LENGTH} characters`);
  // Beyond loopback anyone on the network can reach the server, and the Host check cannot work
  // (any name may point here): a token is then the only thing between a stranger and the page.
  return given ?? (isLoopbackHost(host) ? undefined : randomBytes(24).toString('base64url'));
}

/**
 * The one local HTTP server (issue 17): serves whatever routes the features registered. It
 * listens on loopback by default and then answers only requests whose Host is a loopback name (a
 * web page elsewhere cannot read it through DNS rebinding); bound beyond loopback `token` routes
 * ask for the access token instead. Errors are JSON `{ "error": { "code", "message" } }`.
 */
export async function startHttpServer(routes: RouteRegistry, options: HttpServerOptions): Promise<LocalHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const token = accessToken(host, options.token);
  const dispatcher = new Dispatcher(routes, { loopbackOnly: isLoopbackHost(host), token, logger: options.logger });
  const server = createServer((req, res) => dispatcher.serve(req, res));
  server.on('clientError', (_error, socket) => socket.destroy());
  await listen(server, options.port, host);
  server.on('error', (error) => options.logger.error(`HTTP server: ${errorMessage(error)}`));
  const port = (server.address() as AddressInfo).port;
  dispatcher.port = port;
  const heartbeat = setInterval(() => dispatcher.heartbeat(), HEARTBEAT_MS);
  heartbeat.unref();
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${port}/`;
  if (token !== undefined && !isLoopbackHost(host)) {
    options.logger.info(
      `listening on ${host} port ${port}, beyond loopback: the page asks for a token (${options.token !== undefined ? 'the one configured' : 'generated for this run'}) and answers any Host name`,
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    token,
    signInUrl: token === undefined ? url : `${url}?token=${encodeURIComponent(token)}`,
    stats: () => dispatcher.stats(),
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        dispatcher.closeStreams();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Turns requests into route calls: guards, body, dispatch, answer. One per server. */
class Dispatcher {
  /** The bound port (the sign-in cookie's name carries it, so two servers on one host do not mix). */
  port = 0;
  private readonly streams = new Set<NodeResponseStream>();

  constructor(
    private readonly routes: RouteRegistry,
    private readonly options: { readonly loopbackOnly: boolean; readonly token: string | undefined; readonly logger: Logger },
  ) {}

  serve(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((error: unknown) => {
      this.options.logger.warn(`HTTP server: ${req.method ?? ''} ${pathOf(req.url)} failed: ${errorMessage(error)}`);
      if (!res.headersSent) sendJson(res, 500, errorBody('internalError', 'internal error'));
      else res.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.options.loopbackOnly && !isLoopbackHost(req.headers.host ?? '')) {
      sendJson(res, 421, errorBody('misdirectedRequest', 'this server answers only on a loopback address'));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://local.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const match = this.routes.match(method, url.pathname);
    const open = match.kind === 'found' && match.access === 'open';
    if (!open && !this.authorize(req, res, url)) return;
    if (match.kind === 'none') {
      sendJson(res, 404, errorBody('notFound', `no route ${url.pathname}`));
      return;
    }
    if (match.kind === 'method') {
      const allowed = match.allowed.includes('GET') ? [...match.allowed, 'HEAD'] : [...match.allowed];
      sendJson(res, 405, errorBody('methodNotAllowed', `${method} is not allowed here`), { allow: [...new Set(allowed)].join(', ') });
      return;
    }
    let body: string;
    try {
      body = (await readBody(req, match.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)).toString('utf8');
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      sendJson(res, 413, errorBody('payloadTooLarge', error.message), { connection: 'close' });
      return;
    }
    const request: RouteRequest = {
      method,
      path: url.pathname,
      params: match.params,
      query: url.searchParams,
      headers: headersOf(req),
      body,
      remoteAddress: req.socket.remoteAddress,
    };
    this.respond(req, res, await match.handler(request));
  }

  /**
   * With a token: `Authorization: Bearer`, the cookie set by opening `/?token=…`, or `?token=` on
   * any route (EventSource cannot set headers). Opening the page with the token sets the cookie
   * (HttpOnly, SameSite=Strict) and redirects to the bare address, so the token leaves the address
   * bar and the history. Returns false when it has answered.
   */
  private authorize(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const token = this.options.token;
    if (token === undefined) return true;
    const name = `presence_bridge_status_${this.port}`;
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const fromQuery = url.searchParams.get('token') ?? undefined;
    const fromCookie = cookieValue(req.headers.cookie, name);
    if (fromQuery !== undefined && sameSecret(fromQuery, token) && req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      res.writeHead(303, {
        location: url.pathname,
        'set-cookie': `${name}=${token}; Path=/; HttpOnly; SameSite=Strict`,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      res.end();
      return false;
    }
    for (const given of [bearer, fromQuery, fromCookie]) if (given !== undefined && sameSecret(given, token)) return true;
    sendJson(res, 401, errorBody('unauthorized', 'this server needs its token: open the address with ?token=… printed at start, or send Authorization: Bearer <token>'), {
      'www-authenticate': 'Bearer realm="presence-bridge"',
    });
    return false;
  }

  private respond(req: IncomingMessage, res: ServerResponse, response: RouteResponse): void {
    const head = req.method === 'HEAD';
    if (response.stream) {
      res.writeHead(response.status, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive', ...response.headers });
      if (head) {
        res.end();
        return;
      }
      req.socket.setKeepAlive(true);
      const stream = new NodeResponseStream(res, () => this.streams.delete(stream));
      this.streams.add(stream);
      response.stream(stream);
      return;
    }
    if (response.body === undefined) {
      res.writeHead(response.status, { 'cache-control': 'no-store', ...response.headers });
      res.end();
      return;
    }
    if (typeof response.body !== 'string') {
      sendJson(res, response.status, response.body, response.headers);
      return;
    }
    res.writeHead(response.status, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...response.headers,
      'content-length': String(Buffer.byteLength(response.body)),
    });
    res.end(head ? undefined : response.body);
  }

  heartbeat(): void {
    for (const stream of [...this.streams]) stream.write(': keep-alive\n\n');
  }

  stats(): { streams: number; bufferedBytes: number } {
    let bufferedBytes = 0;
    for (const stream of this.streams) bufferedBytes += stream.bufferedBytes;
    return { streams: this.streams.size, bufferedBytes };
  }

  closeStreams(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}

/** A response held open for server-sent events. */
class NodeResponseStream implements ResponseStream {
  private readonly listeners: (() => void)[] = [];
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    onEnd: () => void,
  ) {
    this.listeners.push(onEnd);
    res.on('close', () => this.finish());
    res.on('error', () => this.finish());
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  get closed(): boolean {
    return this.ended;
  }

  write(chunk: string): void {
    if (this.ended) return;
    try {
      this.res.write(chunk);
    } catch {
      this.close({ destroy: true });
    }
  }

  close(options?: { readonly destroy?: boolean }): void {
    if (this.ended) return;
    if (options?.destroy === true) this.res.destroy();
    else this.res.end();
    this.finish();
  }

  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.listeners.push(listener);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.listeners.splice(0)) {
      try {
        listener();
      } catch {
        // a listener's failure must not keep the others from running
      }
    }
  }
}

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** The path of a request target, without the query (which may hold the token). */
function pathOf(target: string | undefined): string {
  return (target ?? '/').split('?')[0] ?? '/';
}
