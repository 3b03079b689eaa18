import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bridge, UserState } from '../bridgeTypes.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock } from '../session/clock.js';
import { systemClock } from '../session/clock.js';
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
  /** Listening address; loopback unless told otherwise (the page has no login). */
  readonly host?: string;
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
const HEARTBEAT_MS = 15_000;
const MAX_BODY_BYTES = 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon >= 0 ? hostHeader.slice(0, colon) : hostHeader;
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
 * The page has no login, so it listens on loopback by default and, when it does, answers only
 * requests whose Host is a loopback name (a web page elsewhere cannot read it through DNS
 * rebinding). The publish route wants a JSON body, which a cross-site form cannot send.
 */
export async function startStatusServer(bridge: Bridge, options: StatusServerOptions): Promise<StatusServer> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? systemClock;
  const timeScale = options.timeScale ?? 1;
  const name = options.name ?? 'Presence Bridge';
  const logger = options.logger;
  const timeline = new Timeline(options.timelineSize ?? DEFAULT_TIMELINE_SIZE, timeScale);
  const buttons = (options.demo?.buttons ?? []).map((b, i) => ({ id: `b${i + 1}`, label: b.label, topic: b.topic, payload: b.payload }));
  const clients = new Set<ServerResponse>();
  const checkHost = isLoopback(host);

  const broadcast = (event: string, data: unknown): void => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of clients) {
      try {
        res.write(frame);
      } catch (error) {
        logger.debug(`status page: dropping a live client: ${errorMessage(error)}`);
        clients.delete(res);
        res.destroy();
      }
    }
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

  const openEvents = (req: IncomingMessage, res: ServerResponse): void => {
    if (clients.size >= MAX_EVENT_CLIENTS) {
      sendJson(res, 503, { error: 'too many open status pages' });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
    clients.add(res);
    req.socket.setKeepAlive(true);
    const forget = (): void => {
      clients.delete(res);
    };
    req.on('close', forget);
    res.on('error', forget);
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
    if (checkHost && !isLoopback(hostnameOf(req.headers.host ?? ''))) {
      sendJson(res, 421, { error: 'this status page answers only on a loopback address' });
      return;
    }
    const path = new URL(req.url ?? '/', 'http://status.invalid').pathname;
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
    for (const res of clients) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        for (const off of unsubscribe) off();
        for (const res of clients) res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
