/**
 * The feature seam (issue 17): what an input, output or service plugs into. A feature is one
 * folder plus one line in the registry (src/features.ts). It owns its slice of the config (schema
 * variants, cross-checks, reserved input names, form layout) and builds its runtime part from that
 * slice and a {@link FeatureContext}; the config schema, validation, the Homebridge form and the
 * configuration doc are assembled from the registry.
 *
 * This file holds types only, so any layer may import it.
 */
import type { z } from 'zod';
import type { Bridge, BridgeEvents, Startable } from './bridgeTypes.js';
import type { PresenceBridgeConfig } from './config/schema.js';
import type { Logger } from './logger.js';
import type { ActiveIntent } from './presence/presenceArbiter.js';
import type { Clock } from './shared/clock.js';

/** Listen-only view of the bridge's event bus: a feature can hear events but never emit one. */
export interface EventSubscription<Events extends { [K in keyof Events]: unknown }> {
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void;
}

/** What a feature may do to the core: deliver signals and intents, read states. No `events.emit`. */
export type BridgeControl = Omit<Bridge, 'events' | 'start' | 'stop'>;

/** One HTTP request as a route handler sees it (body already read and size-limited). */
export interface RouteRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/api/v1/users/alice`. */
  readonly path: string;
  /** Named segments of the route pattern (`/api/v1/users/:user` gives `{ user: 'alice' }`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body (empty string when none). */
  readonly body: string;
  readonly remoteAddress: string | undefined;
}

export interface RouteResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; anything else as JSON. Omit for no body. */
  readonly body?: unknown;
}

export type RouteHandler = (request: RouteRequest) => RouteResponse | Promise<RouteResponse>;

/** How a route is guarded by the shared server before its handler runs. */
export type RouteAccess =
  /** The server's access token is required whenever it is bound beyond loopback (and when one is set). */
  | 'token'
  /** Always open (health probes, metrics scraped from inside a cluster). */
  | 'open';

/**
 * The one local HTTP server (status page, API, health, metrics). Features register routes while
 * being created; the server owner starts listening after every feature was created.
 */
export interface RouteRegistry {
  /** `pattern` is a path with `:name` segments; method `GET`, `POST`, `PUT`, `DELETE`… Throws when taken. */
  add(method: string, pattern: string, handler: RouteHandler, options?: { readonly access?: RouteAccess }): void;
  /** For the server: which route serves a request (HEAD is served by GET routes). */
  match(method: string, path: string): RouteMatch;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: RouteHandler; readonly params: Readonly<Record<string, string>>; readonly access: RouteAccess }
  /** The path exists for other methods only (405 with `Allow`). */
  | { readonly kind: 'method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

/** An outgoing HTTP request (lights, webhooks). Implemented with undici in src/shared/httpClient.ts. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Abort after this long (connect + response). */
  readonly timeoutMs: number;
  /** PEM file of a CA to trust for this request, besides the system's. */
  readonly caFile?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export interface HttpClient {
  /** Rejects on network errors and timeouts; any HTTP status resolves. */
  request(request: HttpRequest): Promise<HttpResult>;
}

/** Which instance of a fleet this is (issue 19); a lone bridge is shard 0 of 1. */
export interface InstanceIdentity {
  /** Stable name of the instance, e.g. the config's `name` or a pod's hostname. */
  readonly id: string;
  readonly shard: { readonly index: number; readonly count: number };
}

/** Everything a feature receives besides its config slice. */
export interface FeatureContext {
  /** Already prefixed with the feature's name. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** Folder for caches and state (Homebridge's storage path, or `--storage`). */
  readonly storagePath: string;
  /** The whole validated config, read-only (users, names). A feature acts on its own slice. */
  readonly config: PresenceBridgeConfig;
  readonly bridge: BridgeControl;
  readonly events: EventSubscription<BridgeEvents>;
  readonly http: HttpClient;
  readonly routes: RouteRegistry;
  readonly instance: InstanceIdentity;
}

/** Where a cross-check reports a problem: `path` like `inputs[2].port` or `http.port`. */
export interface ConfigReport {
  error(path: string, message: string): void;
  warning(path: string, message: string): void;
}

/**
 * One feature: its config slice and how to build it. `Slice` is what {@link select} picks from
 * the validated config (its section, its inputs and outputs), or null when the config does not
 * use the feature, in which case {@link create} is not called.
 */
export interface FeatureDefinition<Slice = unknown> {
  /** Short name: log prefix, form section, registry key (`mqtt`, `serial`, `statusPage`, `httpApi`…). */
  readonly name: string;
  /**
   * What the core puts before each line of the context's logger: default `[name]`; null for a
   * feature that prefixes its own lines (the MQTT and serial features do).
   */
  readonly logPrefix?: string | null;
  /** A top-level config section the feature owns (`mqtt`, `http`…), with its zod schema. */
  readonly section?: { readonly key: string; readonly schema: z.ZodType; readonly title: string; readonly description: string };
  /** Input variants the feature accepts: zod objects with `type: z.literal(...)` and the common input fields. */
  readonly inputTypes?: readonly z.ZodType[];
  /** Output variants, as for inputs. */
  readonly outputTypes?: readonly z.ZodType[];
  /** Input names the feature delivers through `bridge.setIntent` (e.g. `mqtt-command`); no configured input may take one. */
  readonly reservedInputs?: readonly string[];
  /** Checks that need more than one field (ports shared by two entries, a topic that needs `mqtt`…). */
  check?(config: PresenceBridgeConfig, report: ConfigReport): void;
  select(config: PresenceBridgeConfig): Slice | null;
  /** The runtime part; absent for a definition that only adds config and gates. */
  create?(slice: Slice, context: FeatureContext): Startable;
  /**
   * Fields the feature adds to every `users[]` entry (e.g. `workingHours`) and to every input
   * (e.g. `workingHoursExempt`), merged into those schemas by the registry.
   */
  readonly userFields?: Readonly<Record<string, z.ZodType>>;
  readonly inputFields?: Readonly<Record<string, z.ZodType>>;
  /** Gates the feature puts between the arbiter and the publisher (working hours). */
  gates?(slice: Slice, context: GateContext): readonly PresenceGate[];
}

/** What a gate is built from: pure inputs only. */
export interface GateContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: PresenceBridgeConfig;
}

/**
 * A pure step between the arbiter and the publisher (working hours): it may replace what a user's
 * inputs want. The core asks every gate in order and re-evaluates at the earliest next change of
 * any gate or of the arbiter.
 */
export interface PresenceGate {
  readonly name: string;
  apply(input: GateInput, now: number): GateResult;
  /** When this gate's answer for the user may next change (ms since epoch), or null for never. */
  nextChangeAt(userKey: string, now: number): number | null;
}

export interface GateInput {
  readonly userKey: string;
  /** What the arbiter picked (or the previous gate left): a pair to assert, or null to clear. */
  readonly desired: { readonly availability: string; readonly activity: string } | null;
  /** The input the desired pair comes from (null when clear). */
  readonly source: string | null;
  /**
   * Every intent the user's inputs hold now, highest precedence first, so a gate can let an
   * exempt input through when a higher one is held back.
   */
  readonly intents: readonly ActiveIntent[];
}

export interface GateResult {
  readonly desired: { readonly availability: string; readonly activity: string } | null;
  readonly source: string | null;
  /** A short reason shown to people when the gate changed the outcome (e.g. `outside working hours`), else null. */
  readonly note: string | null;
}
