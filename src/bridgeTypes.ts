import type { GraphCallEvent, UserState } from './session/userState.js';
import type { Intent, Signal } from './presence/intent.js';
import type { ActiveIntent } from './presence/presenceArbiter.js';
import type { EventListeners, TypedEvents } from './events.js';
import type { InputConfig, PresenceBridgeConfig, UserConfig } from './config/schema.js';
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
  /** A source dropped a payload before it became a signal (too large, not text…); only counted (metrics). */
  dropped?(drop: DroppedEvent): void;
}

/** A payload a source dropped before it became a signal (issue 19 metrics). */
export interface DroppedEvent {
  /** Which kind of source dropped it. */
  readonly source: 'mqtt' | 'serial';
  /** The input it was meant for (the first one on its topic), or null when unknown. */
  readonly input: string | null;
  /** A short stable reason: `tooLarge`, `notUtf8`, `binary`, `lineTooLong`. */
  readonly reason: string;
}

// The state types live below the session layer that produces them (src/session/userState.ts);
// re-exported here for everything that imports them with the rest of the bridge's types.
export type { GraphCallEvent, UserErrorInfo, UserHealth, UserState } from './session/userState.js';
export interface SignalEvent {
  readonly signal: Signal;
  readonly userKey: string | null;
  /** The intent it mapped to, or null when the value maps to nothing (logged, dropped). */
  readonly intent: Intent | null;
}

/** A user's held intents changed (set, cleared, a timed one ended), even when the winner did not. */
export interface IntentsEvent {
  readonly userKey: string;
  /** What `Bridge.activeIntents(userKey)` now returns. */
  readonly intents: readonly ActiveIntent[];
}

/**
 * The users or inputs served changed at run time (a fleet member whose share changed, issue 19):
 * features that subscribe per input or announce per user follow it without a restart.
 */
export interface ServedChangeEvent {
  /** Every user served now. */
  readonly users: readonly UserConfig[];
  readonly addedInputs: readonly InputConfig[];
  readonly removedInputs: readonly InputConfig[];
}

export interface BridgeEvents {
  state: UserState;
  signal: SignalEvent;
  graphCall: GraphCallEvent;
  intents: IntentsEvent;
  dropped: DroppedEvent;
  served: ServedChangeEvent;
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
  /**
   * Serve exactly these users from now on (a fleet member whose share changed, issue 19): new
   * ones are added, removed ones have their session cleared and are dropped. Inputs change only
   * through setInputs. Optional: the core has it; a stand-in bridge in a test need not.
   */
  setUsers?(users: readonly UserConfig[]): void;
  /**
   * Serve exactly these inputs from now on (templates expanded for joined and left users): new
   * ones are compiled and added, removed ones dropped with their intents; the `served` event tells
   * the features (the MQTT feature subscribes and unsubscribes). Optional, as setUsers.
   */
  setInputs?(inputs: readonly InputConfig[]): void;
}

/**
 * The bridge as a feature sees it: signals, intents and states in, events to listen to. No `emit`
 * (only the core says what happened) and no `start`/`stop` (the core runs features, not the reverse).
 */
export type FeatureBridge = Omit<Bridge, 'events' | 'start' | 'stop'> & { readonly events: EventListeners<BridgeEvents> };

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
 * not use it. Features are started after the core and stopped before it. The older form of a
 * feature; the registry wraps it into a FeatureDefinition (src/core/factoryFeature.ts) until each
 * feature has its own definition.
 */
export type FeatureFactory = (config: PresenceBridgeConfig, bridge: FeatureBridge, deps: FeatureDeps) => Startable | null;
