/**
 * The feature seam (issue 17): what an input, output or service plugs into. A feature is one
 * folder plus one line in the registry (src/features.ts). It owns its slice of the config (schema
 * variants, cross-checks, reserved input names, form layout) and builds its runtime part from that
 * slice and a {@link FeatureContext}; the config schema, validation, the Homebridge form and the
 * configuration doc are assembled from the registry.
 *
 * This file holds types only, so any layer may import it.
 */
import type { Bridge, BridgeEvents, Startable } from './bridgeTypes.js';
import type { FeatureConfig } from './config/contribution.js';
import type { PresenceBridgeConfig } from './config/schema.js';
import type { Logger } from './logger.js';
import type { ActiveIntent } from './presence/presenceArbiter.js';
import type { Clock } from './shared/clock.js';
import type { HttpClient, RouteRegistry } from './shared/httpTypes.js';
import type { ReadinessRegistry } from './shared/readiness.js';

/** The HTTP seam's types live below every layer (src/shared/httpTypes.ts); re-exported here, where features look for them. */
export type { ConfigReport, FeatureConfig, FormSection } from './config/contribution.js';
export type { ReadinessRegistry, ReadinessStatus } from './shared/readiness.js';
export type { RouteRequest, RouteResponse, ResponseStream, RouteOptions, RouteHandler, RouteAccess, RouteRegistry, RouteMatch, HttpRequest, HttpResult, HttpClient } from './shared/httpTypes.js';

/** Listen-only view of the bridge's event bus: a feature can hear events but never emit one. */
export interface EventSubscription<Events extends { [K in keyof Events]: unknown }> {
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void;
}

/** What a feature may do to the core: deliver signals and intents, read states. No `events.emit`. */
export type BridgeControl = Omit<Bridge, 'events' | 'start' | 'stop'>;

/** {@link BridgeControl} with the listen-only events, in one object (what the MQTT and serial classes take). */
export type FeatureBridge = BridgeControl & { readonly events: EventSubscription<BridgeEvents> };

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
  /** Where a feature says whether it is ready (`/readyz`); absent where nobody asks. */
  readonly readiness?: ReadinessRegistry;
}

/**
 * One feature: its config slice and how to build it. `Slice` is what {@link select} picks from
 * the validated config (its section, its inputs and outputs), or null when the config does not
 * use the feature, in which case {@link create} is not called.
 */
export interface FeatureDefinition<Slice = unknown> extends FeatureConfig {
  /**
   * What the core puts before each line of the context's logger: default `[name]`; null for a
   * feature that prefixes its own lines (the MQTT and serial features do).
   */
  readonly logPrefix?: string | null;
  select(config: PresenceBridgeConfig): Slice | null;
  /** The runtime part; absent for a definition that only adds config and gates. */
  create?(slice: Slice, context: FeatureContext): Startable;
  /** Gates the feature puts between the arbiter and the publisher (working hours). */
  gates?(slice: Slice, context: GateContext): readonly PresenceGate[];
}

/**
 * A {@link FeatureDefinition} with its slice type closed over (src/features.ts `defineFeature`):
 * what the registry lists and the core iterates, without `any`. `select` and `create` become one
 * step, so a slice never leaves the definition that picked it.
 */
export interface RegisteredFeature extends Omit<FeatureDefinition, 'select' | 'create' | 'gates'> {
  /** Whether the config uses the feature (its `select` gives a slice). */
  uses(config: PresenceBridgeConfig): boolean;
  /** `create(select(config), context)`; null when the config does not use it or it has no runtime part. */
  build(config: PresenceBridgeConfig, context: FeatureContext): Startable | null;
  /** `gates(select(config), context)`; empty when unused or it has none. */
  gatesFor(config: PresenceBridgeConfig, context: GateContext): readonly PresenceGate[];
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
