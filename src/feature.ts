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
import type { HttpClient, RouteRegistry } from './shared/httpTypes.js';

/** The HTTP seam's types live below every layer (src/shared/httpTypes.ts); re-exported here, where features look for them. */
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
 * What `/readyz` asks (issue 19): each part (the core, sign-in, MQTT…) registers a check that
 * answers null when ready or a short reason why not. Checks are asked on each probe, so they
 * always tell the current truth.
 */
export interface ReadinessRegistry {
  /** Throws when `name` is taken. */
  add(name: string, check: () => string | null): void;
  /** Every check's answer now; ready when none has a reason. */
  status(): ReadinessStatus;
}

export interface ReadinessStatus {
  readonly ready: boolean;
  /** The checks not ready, with their reasons, in registration order. */
  readonly waiting: readonly { readonly name: string; readonly reason: string }[];
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
  /**
   * Checks that need more than one field (ports shared by two entries, a topic that needs `mqtt`…),
   * on a config zod accepted, after normalisation; see {@link checkRaw} for checks that must run
   * next to structural errors.
   */
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
  /** What the reserved inputs are, for the message when a configured input takes one (`MQTT command topic`). */
  readonly reservedFor?: string;
  /**
   * Checks on the raw block, run even when zod found other errors, so one run of check-config
   * shows every mistake (a second port speed next to a misspelt option). It must accept anything
   * where the config says nothing valid. {@link check} runs only on a config zod accepted.
   */
  checkRaw?(raw: Readonly<Record<string, unknown>>, report: ConfigReport): void;
  /** Puts the feature's part of a valid config in canonical form (after the core's normalisation). */
  normalise?(config: PresenceBridgeConfig): PresenceBridgeConfig;
  /** A section of the Homebridge form the feature's options go in (placed after Users). */
  readonly form?: FormSection;
  /** Rules checked beyond the option table, one or two sentences for docs/configuration.md. */
  readonly docRules?: string;
  /**
   * Whether this raw config gets users from the feature (Entra groups), so an empty `users` list
   * is fine. Without any such feature `users` must list at least one user.
   */
  suppliesUsers?(raw: Readonly<Record<string, unknown>>): boolean;
}

/** A section of the Homebridge form. */
export interface FormSection {
  readonly title: string;
  readonly description: string;
  /** Open when the form loads. */
  readonly expanded?: boolean;
  /** Option paths placed in this section (`mqtt`, `inputs[].workingHoursExempt`); the most specific match wins. */
  readonly paths: readonly string[];
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
