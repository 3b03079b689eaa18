import type { Intent, Signal } from './presence/intent.js';
import type { ActiveIntent } from './presence/presenceArbiter.js';
import type { ObservedPresence, PresencePair } from './presence/presencePair.js';
import type { TypedEvents } from './events.js';
import type { PresenceBridgeConfig } from './config/schema.js';
import type { Logger } from './logger.js';
import type { Clock } from './shared/clock.js';

/** A feature with a lifecycle. Constructors only assign fields; `start` does the work. */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Where sources deliver what devices said. Sources parse bytes into signals and nothing else. */
export interface SignalSink {
  /** A value from a configured input; the input's mapping turns it into an intent. */
  signal(signal: Signal): void;
  /** The device behind an input vanished (serial unplug); its `onDisconnect` decides. */
  inputDisconnected(input: string): void;
}

/** Health of one user's session with Graph. */
export type UserHealth = 'ok' | 'pending' | 'retrying' | 'unhealthy';

export interface UserErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly at: number;
}

/** Everything the outputs report about one user. Emitted on every change. */
export interface UserState {
  readonly userKey: string;
  readonly userId: string;
  readonly displayName: string;
  /** What the arbiter wants asserted, or null for clear. */
  readonly desired: PresencePair | null;
  /** The input the desired pair comes from. */
  readonly source: string | null;
  /** What Graph last confirmed for our session, or null when no session is asserted. */
  readonly confirmed: PresencePair | null;
  /** When our confirmed session expires at Graph (ms since epoch), or null. */
  readonly sessionExpiresAt: number | null;
  /** When the next renewal is due (ms since epoch), or null. */
  readonly nextRenewalAt: number | null;
  readonly health: UserHealth;
  readonly lastError: UserErrorInfo | null;
  /** The user's presence as Graph last reported it (read-back), or null when unknown/off. */
  readonly actual: ObservedPresence | null;
  /** True when read-back shows a presence our session cannot explain (user-preferred override). */
  readonly overridden: boolean;
  /**
   * Where the read-back presence comes from while we assert a pair: `ours`, `otherSession` (a
   * higher-ranked session such as the user's own Teams client; not a fault) or `preferred` (a
   * user-preferred presence overrides us). Absent or null when unknown.
   */
  readonly actualFrom?: 'ours' | 'otherSession' | 'preferred' | null;
  /**
   * Set while a gate (src/feature.ts, e.g. working hours) changed what the inputs want, so nobody
   * wonders why a press did nothing: `{ gate: 'workingHours', note: 'outside working hours' }`.
   */
  readonly gated?: { readonly gate: string; readonly note: string } | null;
  readonly updatedAt: number;
}

export interface SignalEvent {
  readonly signal: Signal;
  readonly userKey: string | null;
  /** The intent it mapped to, or null when the value maps to nothing (logged, dropped). */
  readonly intent: Intent | null;
}

export interface GraphCallEvent {
  readonly userKey: string | null;
  readonly operation: 'setPresence' | 'clearPresence' | 'setUserPreferredPresence' | 'clearUserPreferredPresence' | 'getPresences';
  /** Formatted pair for setPresence, e.g. `Busy/InACall`. */
  readonly detail?: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly errorCode?: string;
  readonly startedAt: number;
  readonly durationMs: number;
}

/** A user's held intents changed (set, cleared, a timed one ended), even when the winner did not. */
export interface IntentsEvent {
  readonly userKey: string;
  /** What `Bridge.activeIntents(userKey)` now returns. */
  readonly intents: readonly ActiveIntent[];
}

export interface BridgeEvents {
  state: UserState;
  signal: SignalEvent;
  graphCall: GraphCallEvent;
  intents: IntentsEvent;
}

export interface Bridge extends Startable, SignalSink {
  readonly events: TypedEvents<BridgeEvents>;
  /** Set one input's intent for a user directly (the `mqtt-command` and `homekit` inputs). */
  setIntent(userKey: string, input: string, intent: Intent): void;
  /** setUserPreferredPresence (null clears it). Rejects with a GraphError when Graph refuses. */
  prefer(userKey: string, presence: { availability: string; activity: string } | null, expirationDuration?: string): Promise<void>;
  /** Current state of every configured user. */
  states(): UserState[];
  /** The intents a user's inputs hold now (restored or live), highest precedence first. */
  activeIntents(userKey: string): ActiveIntent[];
  state(userKey: string): UserState | undefined;
}

/** What a feature (MQTT, serial, …) gets from createBridge besides the bridge itself. */
export interface FeatureDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Folder for caches and state (Homebridge's storage path, or `--storage`). */
  readonly storagePath: string;
  /** Where a feature says whether it is ready (`/readyz`; the ReadinessRegistry of src/feature.ts). */
  readonly readiness?: { add(name: string, check: () => string | null): void };
}

/**
 * Builds one optional part of the bridge from the config, or returns null when the config does
 * not use it. Features are started after the core and stopped before it.
 */
export type FeatureFactory = (config: PresenceBridgeConfig, bridge: Bridge, deps: FeatureDeps) => Startable | null;
