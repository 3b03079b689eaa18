import type { Startable } from '../bridgeTypes.js';
import type { BridgeControl, FeatureContext, RouteRegistry, RouteRequest, RouteResponse } from '../feature.js';
import { GraphError } from '../graph/types.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { CommandGate } from '../session/commandGate.js';
import type { Intent } from '../presence/intent.js';
import { formatPresence } from '../presence/presencePair.js';
import type { Clock } from '../shared/clock.js';
import type { ApiConfig } from './config.js';
import { API_BASE, openApiDocument } from './openapi.js';
import { readPreferredRequest, readPresenceRequest } from './requestBody.js';
import type { BodyProblem } from './requestBody.js';
import { userView } from './userView.js';

/** Name of the built-in input the API drives; ranked by the arbiter like every other input. */
export const API_INPUT = 'http-api';

const NO_STORE = { 'cache-control': 'no-store' } as const;

/** `{ "error": { "code", "message" } }` with its status. */
export function apiError(status: number, code: string, message: string, headers?: Record<string, string>): RouteResponse {
  return { status, headers: { ...NO_STORE, ...headers }, body: { error: { code, message } } };
}

/** ` from 192.168.1.5` for a log line: who changed a presence (never a header: one may hold the token). */
const from = (request: RouteRequest): string => (request.remoteAddress ? ` from ${request.remoteAddress}` : '');
const ok = (body: unknown): RouteResponse => ({ status: 200, headers: NO_STORE, body });
const refused = (problem: BodyProblem): RouteResponse => apiError(problem.status, problem.code, problem.message);

/**
 * The local HTTP API (docs/http-api.md): routes on the one local HTTP server that read every
 * user's state and hold a presence for a user as the `http-api` input. The server guards the
 * routes (loopback or token) before a handler runs; handlers check everything else. Commands of
 * one user pass the same {@link CommandGate} as the MQTT command topics, but a command that cannot
 * run now is refused with 429 and Retry-After rather than kept: an HTTP client can send it again.
 */
export class HttpApi implements Startable {
  private readonly gate: CommandGate;
  private readonly bridge: BridgeControl;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private running = false;

  constructor(
    private readonly options: ApiConfig,
    context: Pick<FeatureContext, 'bridge' | 'clock' | 'logger'>,
  ) {
    this.bridge = context.bridge;
    this.clock = context.clock;
    this.logger = context.logger;
    this.gate = new CommandGate(context.clock, context.logger);
  }

  /** Adds the API's routes; called once, while features are created (before the server listens). */
  register(routes: RouteRegistry): void {
    const document = openApiDocument();
    routes.add('GET', `${API_BASE}/openapi.json`, () => ok(document), { access: 'open' });
    routes.add('GET', `${API_BASE}/users`, () => ok({ users: this.bridge.states().map((s) => userView(s, this.bridge.activeIntents(s.userKey))) }));
    routes.add('GET', `${API_BASE}/users/:user`, (request) => this.withUser(request, (user) => this.view(user)));
    routes.add('PUT', `${API_BASE}/users/:user/presence`, (request) => this.withUser(request, (user) => this.setPresence(user, request)));
    routes.add('DELETE', `${API_BASE}/users/:user/presence`, (request) => this.withUser(request, (user) => this.clearPresence(user, request)));
    routes.add('PUT', `${API_BASE}/users/:user/preferred-presence`, (request) => this.withUser(request, (user) => this.prefer(user, request)));
    routes.add('DELETE', `${API_BASE}/users/:user/preferred-presence`, (request) => this.withUser(request, (user) => this.prefer(user, request)));
  }

  start(): Promise<void> {
    this.running = true;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.running = false;
    this.gate.close();
    return Promise.resolve();
  }

  private async withUser(request: RouteRequest, handle: (user: string) => RouteResponse | Promise<RouteResponse>): Promise<RouteResponse> {
    const user = request.params.user ?? '';
    // Asked of the bridge on each request: the users served may change at run time (a fleet's shard).
    if (this.bridge.state(user) === undefined) return apiError(404, 'unknownUser', `no user has the key ${JSON.stringify(user)}`);
    try {
      return await handle(user);
    } catch (error) {
      this.logger.error(`${request.method} ${request.path} failed: ${errorMessage(error)}`);
      return apiError(500, 'internalError', 'the bridge failed to handle this request; its log says why');
    }
  }

  private view(user: string): RouteResponse {
    const state = this.bridge.state(user);
    if (!state) return apiError(404, 'unknownUser', `no user has the key ${JSON.stringify(user)}`);
    return ok(userView(state, this.bridge.activeIntents(user)));
  }

  /** Checks shared by every command: the bridge runs and the command is turned on. */
  private commandRefusal(preferred: boolean): RouteResponse | null {
    if (!this.running) return apiError(503, 'unavailable', 'the bridge is not running');
    if (!this.options.commands) return apiError(403, 'commandsOff', 'presence commands are turned off (api.commands)');
    if (preferred && !this.options.preferredPresence) return apiError(403, 'preferredPresenceOff', 'the preferred presence is turned off (api.preferredPresence)');
    return null;
  }

  /** One command through the user's lane of the gate: 429 with Retry-After when the lane is not free. */
  private gated<T extends Promise<void> | void>(user: string, lane: string, run: () => T): { ran: true; result: T } | { ran: false; response: RouteResponse } {
    const tried = this.gate.tryRun(`${user}/${lane}`, run);
    if (tried.ran) return tried;
    const seconds = Math.max(1, Math.ceil(tried.retryAfterMs / 1000));
    return {
      ran: false,
      response: apiError(429, 'throttled', `commands for ${user} come faster than the bridge applies them; nothing was done, send it again in ${seconds} s`, { 'retry-after': String(seconds) }),
    };
  }

  private setPresence(user: string, request: RouteRequest): RouteResponse {
    const refusal = this.commandRefusal(false);
    if (refusal) return refusal;
    const read = readPresenceRequest(request.headers['content-type'], request.body);
    if (!read.ok) return refused(read.problem);
    const at = this.clock.now();
    const { pair, durationMs } = read.value;
    const intent: Intent = durationMs === undefined ? { kind: 'set', pair, at } : { kind: 'set', pair, at, until: at + durationMs };
    const done = this.gated(user, 'presence', () => {
      const until = intent.kind === 'set' && intent.until !== undefined ? ` until ${new Date(intent.until).toISOString()}` : '';
      this.logger.info(`${user}: ${formatPresence(pair)}${until} (HTTP API${from(request)})`);
      this.bridge.setIntent(user, API_INPUT, intent);
    });
    return done.ran ? this.view(user) : done.response;
  }

  private clearPresence(user: string, request: RouteRequest): RouteResponse {
    const refusal = this.commandRefusal(false);
    if (refusal) return refusal;
    if (request.body.length > 0) return apiError(400, 'invalidBody', 'DELETE takes no body');
    const done = this.gated(user, 'presence', () => {
      this.logger.info(`${user}: clear (HTTP API${from(request)})`);
      this.bridge.setIntent(user, API_INPUT, { kind: 'clear', at: this.clock.now() });
    });
    return done.ran ? this.view(user) : done.response;
  }

  /** PUT sets, DELETE clears the user-preferred presence; answers once Graph did. */
  private async prefer(user: string, request: RouteRequest): Promise<RouteResponse> {
    const refusal = this.commandRefusal(true);
    if (refusal) return refusal;
    let presence: { availability: string; activity: string } | null = null;
    let expiration: string | undefined;
    if (request.method === 'PUT') {
      const read = readPreferredRequest(request.headers['content-type'], request.body);
      if (!read.ok) return refused(read.problem);
      presence = read.value.presence;
      expiration = read.value.expiration;
    } else if (request.body.length > 0) return apiError(400, 'invalidBody', 'DELETE takes no body');
    const done = this.gated(user, 'preferred', () => this.bridge.prefer(user, presence, expiration));
    if (!done.ran) return done.response;
    try {
      await done.result;
    } catch (error) {
      if (error instanceof GraphError) return apiError(502, 'graphRefused', `Graph refused the preferred presence: ${error.message} (${error.hint})`);
      return apiError(503, 'unavailable', `the preferred presence was not set: ${errorMessage(error)}`);
    }
    this.logger.info(`${user}: preferred presence ${presence ? formatPresence(presence) : 'cleared'} (HTTP API${from(request)})`);
    return ok({ user, preferredPresence: presence ? formatPresence(presence) : null, for: expiration ?? null });
  }
}
