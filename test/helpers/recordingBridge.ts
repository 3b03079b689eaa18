import type { Bridge, BridgeEvents, UserState } from '../../src/bridgeTypes.js';
import { TypedEvents } from '../../src/events.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { Intent, Signal } from '../../src/presence/intent.js';
import type { ActiveIntent } from '../../src/presence/presenceArbiter.js';

type Presence = { availability: string; activity: string };

/**
 * An in-process stand-in for the Bridge (an interface, not a protocol boundary): it records what a
 * feature or front end asks of it, and lets a test publish user states on the real event bus.
 */
export class RecordingBridge implements Bridge {
  readonly events: TypedEvents<BridgeEvents>;
  readonly signals: Signal[] = [];
  readonly disconnects: string[] = [];
  readonly intents: { userKey: string; input: string; intent: Intent }[] = [];
  readonly prefers: { userKey: string; presence: Presence | null; expiration?: string }[] = [];
  /** When set, `prefer` records the call and then rejects with it. */
  preferError: Error | undefined;
  private readonly current = new Map<string, UserState>();
  private readonly onRecord: () => void;

  /**
   * `states`: the users' states to start with; `logger`: the event bus's logger (silent by
   * default); `onRecord`: runs after each recorded call.
   */
  constructor(options: { states?: readonly UserState[]; logger?: Logger; onRecord?: () => void } = {}) {
    this.events = new TypedEvents<BridgeEvents>(options.logger ?? silentLogger);
    this.onRecord = options.onRecord ?? (() => undefined);
    for (const state of options.states ?? []) this.current.set(state.userKey, state);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  signal(signal: Signal): void {
    this.signals.push(signal);
    this.onRecord();
  }
  inputDisconnected(input: string): void {
    this.disconnects.push(input);
    this.onRecord();
  }
  setIntent(userKey: string, input: string, intent: Intent): void {
    this.intents.push({ userKey, input, intent });
    this.onRecord();
  }
  prefer(userKey: string, presence: Presence | null, expiration?: string): Promise<void> {
    this.prefers.push(expiration === undefined ? { userKey, presence } : { userKey, presence, expiration });
    this.onRecord();
    return this.preferError ? Promise.reject(this.preferError) : Promise.resolve();
  }
  states(): UserState[] {
    return [...this.current.values()];
  }
  state(userKey: string): UserState | undefined {
    return this.current.get(userKey);
  }
  /** The recorded intents of a user, latest per input, those that are not clear (no ranking). */
  activeIntents(userKey: string): ActiveIntent[] {
    const latest = new Map<string, Intent>();
    for (const r of this.intents) if (r.userKey === userKey) latest.set(r.input, r.intent);
    const active: ActiveIntent[] = [];
    for (const [input, intent] of latest) if (intent.kind === 'set') active.push({ input, pair: intent.pair, at: intent.at, ...(intent.until === undefined ? {} : { until: intent.until }) });
    return active;
  }

  /** Publishes a user state, as the core does on every change. */
  emitState(state: UserState): void {
    this.current.set(state.userKey, state);
    this.events.emit('state', state);
  }

  /** Changes a known user's state and publishes it. */
  update(userKey: string, patch: Partial<UserState>): void {
    this.emitState({ ...this.current.get(userKey)!, ...patch });
  }

  /** The values of the recorded signals, of one input or of all. */
  values(input?: string): string[] {
    return this.signals.filter((s) => input === undefined || s.input === input).map((s) => s.value);
  }
}
