import type { BridgeEvents, UserState } from '../bridgeTypes.js';
import type { EventSubscription, RouteRegistry, RouteRequest, RouteResponse } from '../feature.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import { errorBody } from '../shared/httpHelpers.js';
import { LiveClients } from './liveClients.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import { DEFAULT_TIMELINE_SIZE, Timeline, type TimelineEntry } from './timeline.js';
import { queryFrom, UserIndex, type UserCounts, type UserQuery } from './userIndex.js';

/** A button on the demo's page: pressing it publishes `payload` to `topic`. */
export interface DemoButton {
  readonly label: string;
  readonly topic: string;
  readonly payload: string;
}

/** Demo mode: buttons that publish example input messages to MQTT. */
export interface DemoButtons {
  readonly buttons: readonly DemoButton[];
  publish(topic: string, payload: string): Promise<void>;
}

/** What the page shows, from the bridge: its users' states and its events. */
export interface StatusSource {
  readonly events: EventSubscription<BridgeEvents>;
  states(): UserState[];
}

export interface StatusPageOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  /** How much faster than real time `clock` runs (the demo's sped-up time); default 1. */
  readonly timeScale?: number;
  /** Title on the page; default "Presence Bridge". */
  readonly name?: string;
  /** How many signals and Graph calls the timeline keeps (default 200). */
  readonly timelineSize?: number;
  readonly demo?: DemoButtons;
}

/**
 * What `/api/state` returns and the first server-sent event carries: one page of users (worst
 * health first; `?q=`, `?health=`, `?page=`, `?pageSize=` pick which) and counts over all of them,
 * so it stays bounded with thousands of users.
 */
export interface StatusSnapshot {
  readonly name: string;
  /** The bridge clock's time when the snapshot was taken (ms since epoch). */
  readonly now: number;
  readonly timeScale: number;
  readonly users: UserState[];
  readonly counts: UserCounts;
  readonly query: { readonly q: string; readonly health: string | null; readonly page: number; readonly pageSize: number; readonly matched: number };
  readonly timeline: TimelineEntry[];
  readonly demo: { readonly buttons: (DemoButton & { readonly id: string })[] } | null;
}

/** A `state` event: one user's new state and the counts after it. */
export interface StateEvent {
  readonly now: number;
  readonly state: UserState;
  readonly counts: UserCounts;
}

/** The largest demo publish request (`{"id": "b1"}` is a dozen bytes). */
const MAX_PUBLISH_BODY_BYTES = 1024;

export interface StatusPage {
  /** Live pages and the bytes the server holds for them, not yet taken by their sockets. */
  stats(): { readonly clients: number; readonly bufferedBytes: number };
  /** Stops listening to the bridge and ends live pages (the routes stay; they answer as before). */
  close(): void;
}

/**
 * Registers the status page on the local server: `GET /` (the page), `GET /api/state` (JSON
 * snapshot), `GET /events` (server-sent events: `snapshot`, then `state` and `timeline`), and in
 * demo mode `POST /api/demo/publish` with `{"id": buttonId}` (a JSON body, which a cross-site form
 * cannot send, from the page's own origin).
 */
export function registerStatusPage(routes: RouteRegistry, source: StatusSource, options: StatusPageOptions): StatusPage {
  const page = new StatusPageRoutes(source, options);
  routes.add('GET', '/', () => pageResponse());
  routes.add('GET', '/index.html', () => pageResponse());
  routes.add('GET', '/api/state', (request) => ({ status: 200, body: page.snapshot(queryFrom(request.query)) }));
  routes.add('GET', '/events', (request) => page.openEvents(request));
  if (options.demo) {
    const demo = options.demo;
    routes.add('POST', '/api/demo/publish', (request) => page.publish(demo, request), { maxBodyBytes: MAX_PUBLISH_BODY_BYTES });
  }
  return { stats: () => page.stats(), close: () => page.close() };
}

function pageResponse(): RouteResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'referrer-policy': 'no-referrer' },
    body: PAGE_HTML,
  };
}

class StatusPageRoutes {
  private readonly timeline: Timeline;
  private readonly index: UserIndex;
  private readonly clients: LiveClients;
  private readonly buttons: (DemoButton & { readonly id: string })[];
  private readonly unsubscribe: (() => void)[];

  constructor(
    source: StatusSource,
    private readonly options: StatusPageOptions,
  ) {
    this.timeline = new Timeline(options.timelineSize ?? DEFAULT_TIMELINE_SIZE, options.timeScale ?? 1);
    this.index = new UserIndex(source.states());
    this.clients = new LiveClients(options.logger);
    this.buttons = (options.demo?.buttons ?? []).map((b, i) => ({ id: `b${i + 1}`, label: b.label, topic: b.topic, payload: b.payload }));
    const clock = options.clock;
    this.unsubscribe = [
      source.events.on('state', (state) => {
        this.index.update(state);
        this.clients.broadcast('state', { now: clock.now(), state, counts: this.index.counts() } satisfies StateEvent);
      }),
      source.events.on('signal', (event) => this.clients.broadcast('timeline', { now: clock.now(), entry: this.timeline.addSignal(event) })),
      source.events.on('graphCall', (event) => this.clients.broadcast('timeline', { now: clock.now(), entry: this.timeline.addGraphCall(event) })),
    ];
  }

  snapshot(query: UserQuery): StatusSnapshot {
    const users = this.index.query(query);
    return {
      name: this.options.name ?? 'Presence Bridge',
      now: this.options.clock.now(),
      timeScale: this.options.timeScale ?? 1,
      users: users.users,
      counts: this.index.counts(),
      query: { q: query.q ?? '', health: query.health ?? null, page: users.page, pageSize: users.pageSize, matched: users.matched },
      timeline: this.timeline.list(),
      demo: this.options.demo ? { buttons: this.buttons } : null,
    };
  }

  openEvents(request: RouteRequest): RouteResponse {
    const address = request.remoteAddress ?? '';
    // A HEAD has no body to stream (the server answers the headers only): it takes no slot.
    if (request.method !== 'HEAD' && !this.clients.hasRoomFor(address)) {
      return { status: 503, headers: { 'retry-after': '10' }, body: errorBody('tooManyClients', 'too many open status pages') };
    }
    return {
      status: 200,
      stream: (stream) => this.clients.open(stream, address, `retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot(queryFrom(request.query)))}\n\n`),
    };
  }

  async publish(demo: DemoButtons, request: RouteRequest): Promise<RouteResponse> {
    if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      return { status: 415, body: errorBody('unsupportedMediaType', 'send {"id": "…"} as application/json') };
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) {
      return { status: 403, body: errorBody('forbidden', 'cross-origin request refused') };
    }
    let id: unknown;
    try {
      id = (JSON.parse(request.body) as { id?: unknown } | null)?.id;
    } catch {
      return { status: 400, body: errorBody('badRequest', 'body must be JSON: {"id": "…"}') };
    }
    const button = this.buttons.find((b) => b.id === id);
    if (!button) return { status: 400, body: errorBody('badRequest', `no demo button ${JSON.stringify(id)}`) };
    try {
      await demo.publish(button.topic, button.payload);
      return { status: 200, body: { ok: true, topic: button.topic, payload: button.payload } };
    } catch (error) {
      this.options.logger.warn(`publishing to ${button.topic} failed: ${errorMessage(error)}`);
      return { status: 502, body: errorBody('publishFailed', `publishing failed: ${errorMessage(error)}`) };
    }
  }

  stats(): { clients: number; bufferedBytes: number } {
    return { clients: this.clients.size, bufferedBytes: this.clients.bufferedBytes() };
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.clients.closeAll();
  }
}
