import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import type { Bridge, UserState } from '../bridgeTypes.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import { DEFAULT_TIMELINE_SIZE, Timeline, type TimelineEntry } from './timeline.js';

/** A button on the demo's page: pressing it publishes `payload` to `topic`. */
export interface DemoButton {
  readonly label: string;
  readonly topic: string;
  readonly payload: string;
}

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
  readonly demo?: {
    readonly buttons: readonly DemoButton[];
    publish(topic: string, payload: string): Promise<void>;
  };
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

/** What `/api/state` returns and the first server-sent event carries. */
export interface StatusSnapshot {
  readonly name: string;
  /** The bridge clock's time when the snapshot was taken (ms since epoch). */
  readonly now: number;
  readonly timeScale: number;
  readonly users: UserState[];
  readonly timeline: TimelineEntry[];
  readonly demo: { readonly buttons: (DemoButton & { readonly id: string })[] } | null;
}

/** At most this many live pages at once; more get 503 (each holds a socket open). */
export const MAX_EVENT_CLIENTS = 32;
/** At most this many live pages from one address, so one machine cannot take every slot. */
export const MAX_EVENT_CLIENTS_PER_ADDRESS = 6;
/**
 * Bytes the server holds for one live page beyond what its socket took (on top of its first
 * snapshot). A page that stops reading is dropped past this, so it costs at most this much.
 */
export const MAX_BUFFERED_BYTES_PER_CLIENT = 256 * 1024;
const HEARTBEAT_MS = 15_000;
const MAX_BODY_BYTES = 1024;
const MIN_TOKEN_LENGTH = 16;

/**
 * True for a real loopback name: `localhost`, an IPv4 literal in 127.0.0.0/8, or ::1. The value is
 * a Host header or a listening address; the WHATWG URL parser normalizes it first (so `127.1` and
 * `[0:0::1]` count, and `127.0.0.1.attacker.example` is a DNS name like any other: not loopback).
 */
export function isLoopbackHost(host: string): boolean {
  if (/[@/\\?#\s]/.test(host)) return false;
  const bracketed = host.includes(':') && !host.startsWith('[') && isIPv6Literal(host) ? `[${host}]` : host;
  let hostname: string;
  try {
    hostname = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return false;
  }
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIPv4(hostname) && hostname.startsWith('127.');
}

function isIPv6Literal(host: string): boolean {
  return (host.match(/:/g) ?? []).length >= 2;
}

/** Compares without leaking, through timing, how much of a guess was right. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume(); // drain the rest so the 413 can still be sent
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The status page over plain node:http: `/` (the page), `/api/state` (JSON snapshot), `/events`
 * (server-sent events: `snapshot`, then `state` and `timeline`), and in demo mode
 * `POST /api/demo/publish` with `{"id": buttonId}`.
 *
 * It listens on loopback by default and, when it does, answers only requests whose Host is a
 * loopback name (a web page elsewhere cannot read it through DNS rebinding). Bound beyond
 * loopback it asks for a token instead. The publish route wants a JSON body, which a cross-site
 * form cannot send. A live page that stops reading is dropped once it leaves
 * {@link MAX_BUFFERED_BYTES_PER_CLIENT} unread, so a stalled client costs bounded memory.
 */
export async function startStatusServer(bridge: Bridge, options: StatusServerOptions): Promise<StatusServer> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? systemClock;
  const timeScale = options.timeScale ?? 1;
  const name = options.name ?? 'Presence Bridge';
  const logger = options.logger;
  const timeline = new Timeline(options.timelineSize ?? DEFAULT_TIMELINE_SIZE, timeScale);
  const buttons = (options.demo?.buttons ?? []).map((b, i) => ({ id: `b${i + 1}`, label: b.label, topic: b.topic, payload: b.payload }));
  /** Each live page, its address, and how many bytes it may leave unread before it is dropped. */
  const clients = new Map<ServerResponse, { readonly address: string; readonly allowance: number }>();
  const loopbackOnly = isLoopbackHost(host);
  let boundPort = options.port;
  if (options.token !== undefined && options.token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the status page token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  // Beyond loopback anyone on the network can reach the page, and the Host check cannot work
  // (any name may point here): a token is then the only thing between a stranger and the page.
  const token = options.token ?? (loopbackOnly ? undefined : randomBytes(24).toString('base64url'));

  const drop = (res: ServerResponse, why: string): void => {
    if (!clients.delete(res)) return;
    logger.debug(`status page: dropping a live page: ${why}`);
    res.destroy();
  };

  /** Writes to one live page unless it has left too much unread, in which case it goes. */
  const send = (res: ServerResponse, frame: string): void => {
    const client = clients.get(res);
    if (!client) return;
    if (res.writableLength > client.allowance) {
      drop(res, `${res.writableLength} bytes unread (it stopped reading)`);
      return;
    }
    try {
      res.write(frame);
    } catch (error) {
      drop(res, errorMessage(error));
    }
  };

  const broadcast = (event: string, data: unknown): void => {
    if (clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of [...clients.keys()]) send(res, frame);
  };

  const unsubscribe = [
    bridge.events.on('state', (state) => broadcast('state', { now: clock.now(), state })),
    bridge.events.on('signal', (event) => broadcast('timeline', { now: clock.now(), entry: timeline.addSignal(event) })),
    bridge.events.on('graphCall', (event) => broadcast('timeline', { now: clock.now(), entry: timeline.addGraphCall(event) })),
  ];

  const snapshot = (): StatusSnapshot => ({
    name,
    now: clock.now(),
    timeScale,
    users: bridge.states(),
    timeline: timeline.list(),
    demo: options.demo ? { buttons } : null,
  });

  const eventHeaders = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  };

  const openEvents = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'HEAD') {
      // A HEAD has no body to stream: answer the headers and take no slot.
      res.writeHead(200, eventHeaders);
      res.end();
      return;
    }
    const address = req.socket.remoteAddress ?? '';
    let fromAddress = 0;
    for (const c of clients.values()) if (c.address === address) fromAddress++;
    if (clients.size >= MAX_EVENT_CLIENTS || fromAddress >= MAX_EVENT_CLIENTS_PER_ADDRESS) {
      res.setHeader('retry-after', '10');
      sendJson(res, 503, { error: 'too many open status pages' });
      return;
    }
    res.writeHead(200, eventHeaders);
    const first = `retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`;
    res.write(first);
    clients.set(res, { address, allowance: MAX_BUFFERED_BYTES_PER_CLIENT + Buffer.byteLength(first) });
    req.socket.setKeepAlive(true);
    const forget = (): void => {
      clients.delete(res);
    };
    req.on('close', forget);
    res.on('error', forget);
  };

  const cookieName = (port: number): string => `presence_bridge_status_${port}`;

  /**
   * With a token: `Authorization: Bearer`, the cookie set by opening `/?token=…`, or `?token=` on
   * any route (EventSource cannot set headers). Opening the page with the token sets the cookie
   * (HttpOnly, SameSite=Strict) and redirects to the bare address, so the token leaves the address
   * bar and the history. Returns false when it has answered.
   */
  const authorize = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (token === undefined) return true;
    const name = cookieName(boundPort);
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
    res.setHeader('www-authenticate', 'Bearer realm="presence-bridge status"');
    sendJson(res, 401, { error: 'this status page needs its token: open the address with ?token=… printed at start, or send Authorization: Bearer <token>' });
    return false;
  };

  const publish = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!options.demo) {
      sendJson(res, 404, { error: 'not in demo mode' });
      return;
    }
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      sendJson(res, 415, { error: 'send {"id": "…"} as application/json' });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
      sendJson(res, 403, { error: 'cross-origin request refused' });
      return;
    }
    let id: unknown;
    try {
      id = (JSON.parse(await readBody(req)) as { id?: unknown } | null)?.id;
    } catch (error) {
      if (error instanceof BodyTooLarge) sendJson(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
      else sendJson(res, 400, { error: 'body must be JSON: {"id": "…"}' });
      return;
    }
    const button = buttons.find((b) => b.id === id);
    if (!button) {
      sendJson(res, 400, { error: `no demo button ${JSON.stringify(id)}` });
      return;
    }
    try {
      await options.demo.publish(button.topic, button.payload);
      sendJson(res, 200, { ok: true, topic: button.topic, payload: button.payload });
    } catch (error) {
      logger.warn(`status page: publishing to ${button.topic} failed: ${errorMessage(error)}`);
      sendJson(res, 502, { error: `publishing failed: ${errorMessage(error)}` });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (loopbackOnly && !isLoopbackHost(req.headers.host ?? '')) {
      sendJson(res, 421, { error: 'this status page answers only on a loopback address' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    if (!authorize(req, res, url)) return;
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/api/demo/publish') return publish(req, res);
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, { error: `${method} not allowed` });
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': PAGE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-length': Buffer.byteLength(PAGE_HTML),
      });
      res.end(method === 'HEAD' ? undefined : PAGE_HTML);
      return;
    }
    if (path === '/api/state') return sendJson(res, 200, snapshot());
    if (path === '/events') return openEvents(req, res);
    sendJson(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.warn(`status page: ${req.method ?? ''} ${req.url ?? ''} failed: ${errorMessage(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      for (const off of unsubscribe) off();
      reject(error);
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => logger.error(`status page: ${errorMessage(error)}`));

  const heartbeat = setInterval(() => {
    for (const res of [...clients.keys()]) send(res, ': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const port = (server.address() as AddressInfo).port;
  boundPort = port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${port}/`;
  if (!loopbackOnly) {
    logger.info(
      `listening on ${host} port ${port}, beyond loopback: the page asks for a token (${options.token !== undefined ? 'the one configured' : 'generated for this run'}) and answers any Host name`,
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    token,
    signInUrl: token === undefined ? url : `${url}?token=${encodeURIComponent(token)}`,
    stats: () => {
      let bufferedBytes = 0;
      for (const res of clients.keys()) bufferedBytes += res.writableLength;
      return { clients: clients.size, bufferedBytes };
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        for (const off of unsubscribe) off();
        for (const res of clients.keys()) res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
