import type { Bridge, BridgeEvents, FeatureFactory, Startable, UserState } from './bridgeTypes.js';
import type { InputConfig, PresenceBridgeConfig, UserConfig } from './config/schema.js';
import { TypedEvents } from './events.js';
import { BUILT_IN_FEATURES } from './features.js';
import { createGraphStack } from './graph/index.js';
import type { AccessTokenProvider, GraphPresenceClient } from './graph/types.js';
import { GraphError } from './graph/types.js';
import { graphCallEvent, type CallOutcome } from './graph/graphCallEvent.js';
import { isObjectId } from './graph/userIdResolver.js';
import type { Logger } from './logger.js';
import { secretFilesOf, warnAboutReadableSecrets } from './files/secretFiles.js';
import { errorMessage, prefixedLogger } from './logger.js';
import { parseIsoDuration } from './presence/duration.js';
import type { Intent, Signal } from './presence/intent.js';
import type { InputMapping, ToggleState } from './presence/mapping.js';
import { compileMapping, initialToggleState, mapSignal } from './presence/mapping.js';
import { PresenceArbiter, type ActiveIntent } from './presence/presenceArbiter.js';
import { aliveStampIntervalMs, planRestore } from './presence/intentRestore.js';
import { formatPresence } from './presence/presencePair.js';
import type { Clock, TimerHandle } from './shared/clock.js';
import { systemClock } from './shared/clock.js';
import { PresencePublisher } from './session/presencePublisher.js';
import { PresenceReadback } from './session/presenceReadback.js';
import { RequestLimiter } from './session/requestLimiter.js';
import { SessionLedger } from './session/sessionLedger.js';
import { IntentStore } from './session/intentStore.js';
import { RenewalMargin } from './session/renewalMargin.js';
import { LogLimiter } from './shared/logLimiter.js';
import { excerpt } from './shared/payloadGuard.js';

/** What createBridge needs to talk to Graph; built from the config when not given. */
export interface GraphStack {
  readonly tokens: AccessTokenProvider;
  readonly client: GraphPresenceClient;
  close(): Promise<void>;
}

export interface BridgeDeps {
  readonly logger: Logger;
  /** Defaults to the system clock. Tests and benchmarks pass a ManualClock. */
  readonly clock?: Clock;
  /** Folder for token caches and state (Homebridge's storage path, or `--storage`). */
  readonly storagePath: string;
  /** A ready Graph stack; when given, the caller owns it and closes it. */
  readonly graph?: GraphStack;
  /** Features to start after the core; defaults to {@link BUILT_IN_FEATURES}. */
  readonly features?: readonly FeatureFactory[];
  /** Jitter source for retry backoff (defaults to Math.random). */
  readonly random?: () => number;
  /** The file the config came from, checked at start like the key files it names (secrets not readable by others). */
  readonly configFile?: string;
}

/** The bridge as createBridge returns it: the shared {@link Bridge} plus a few operational extras. */
export interface CoreBridge extends Bridge {
  readonly config: PresenceBridgeConfig;
  /** Resolves once no Graph call is in flight (the CLI and tests wait on it; nothing else does). */
  whenIdle(): Promise<void>;
  /** Forget refusals and backoff for every user and try again now (after a config or consent fix). */
  retryAll(): void;
}

/** How long `onShutdown: clear` waits for the clears before stopping anyway. */
export const SHUTDOWN_CLEAR_TIMEOUT_MS = 5_000;

/**
 * After a start, sessions a crashed previous run left behind are cleared once the inputs had this
 * long to report (MQTT retained messages arrive right after connecting), unless they are wanted.
 */
export const STARTUP_GRACE_MS = 5_000;

/** Restored (and dropped) intents are logged one by one up to this many, then counted. */
const RESTORE_LOG_LINES = 20;

/** Inputs the bridge provides itself; they reach it through {@link Bridge.setIntent}. */
export const BUILT_IN_INPUTS = ['mqtt-command', 'homekit'] as const;

interface UserSlot {
  readonly config: UserConfig;
  readonly arbiter: PresenceArbiter;
  readonly publisher: PresencePublisher;
  timer: TimerHandle | undefined;
}

interface InputSlot {
  readonly config: InputConfig;
  readonly mapping: InputMapping;
  readonly userKey: string;
  toggle: ToggleState;
}

function userKeyOf(config: PresenceBridgeConfig, input: { user?: string | undefined }): string | undefined {
  if (input.user !== undefined) return config.users.some((u) => u.key === input.user) ? input.user : undefined;
  return config.users.length === 1 ? config.users[0]?.key : undefined;
}

class PresenceBridgeCore implements CoreBridge {
  readonly events: TypedEvents<BridgeEvents>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly users = new Map<string, UserSlot>();
  private readonly usersById = new Map<string, UserSlot>();
  /** users[].id given as a user principal name (lower case) → the object id Graph resolved it to. */
  private readonly objectIds = new Map<string, string>();
  /** Settles once every user principal name was resolved or failed to be (at start). */
  private resolving: Promise<unknown> = Promise.resolve();
  private readonly inputs = new Map<string, InputSlot>();
  private readonly limiter: RequestLimiter;
  private readonly readback: PresenceReadback;
  private readonly features: Startable[] = [];
  private readonly ledger: SessionLedger;
  private graceTimer: TimerHandle | undefined;
  /** Each input's latest intent per user on disk, restored at start (issue 20). */
  private readonly intentStore: IntentStore;
  /** Nothing is restored after a down time longer than this: `graph.expiration`, a session's life. */
  private readonly restoreLimitMs: number;
  private aliveTimer: TimerHandle | undefined;
  /** Debug lines quoting values no mapping took: a few per input a minute, each cut short. */
  private readonly ignoredLog: LogLimiter;
  private graph: GraphStack | undefined;
  private ownsGraph = false;
  private running = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: PresenceBridgeConfig,
    private readonly deps: BridgeDeps,
  ) {
    this.logger = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.events = new TypedEvents<BridgeEvents>(this.logger);
    this.ignoredLog = new LogLimiter(this.logger, this.clock, { level: 'debug', perKey: 3, total: 20, noun: 'ignored value(s)' });
    this.ledger = new SessionLedger(deps.storagePath, prefixedLogger(this.logger, '[session]'));
    this.limiter = new RequestLimiter(this.clock, config.graph.maxRequestsPer30s, prefixedLogger(this.logger, '[graph]'));
    const expiration = config.graph.expiration;
    const expirationMs = parseIsoDuration(expiration) ?? 3_600_000;
    this.intentStore = new IntentStore(deps.storagePath, this.clock, prefixedLogger(this.logger, '[intents]'));
    this.restoreLimitMs = expirationMs;
    const client = this.lazyClient();
    const sessionLogger = prefixedLogger(this.logger, '[session]');
    const renewalMargin = new RenewalMargin(config.graph.timeoutSeconds * 1000);
    for (const user of config.users) {
      const publisher = new PresencePublisher(
        { key: user.key, id: user.id, displayName: user.name ?? user.key },
        {
          clock: this.clock,
          client,
          limiter: this.limiter,
          logger: sessionLogger,
          expiration,
          expirationMs,
          random: deps.random,
          onState: (state) => {
            // a user principal name not resolved yet cannot hold a session: no presence call went out
            const ledgerId = this.ledgerId(state.userId);
            if (isObjectId(ledgerId)) this.ledger.update(ledgerId, state.desired !== null || state.confirmed !== null || publisher.hasSession());
            this.events.emit('state', state);
          },
          onCall: (event) => this.events.emit('graphCall', event),
          // the ledger lists object ids, so a user principal name is resolved before the first set
          beforeSet: () => (isObjectId(user.id) ? this.ledger.ensureListed(user.id) : this.resolveObjectId(user.id).then((id) => this.ledger.ensureListed(id))),
          renewalMargin,
        },
      );
      const slot: UserSlot = { config: user, arbiter: new PresenceArbiter(), publisher, timer: undefined };
      this.users.set(user.key, slot);
      this.usersById.set(user.id.toLowerCase(), slot);
    }
    for (const input of config.inputs) {
      const userKey = userKeyOf(config, input);
      if (userKey === undefined) {
        this.logger.error(`input "${input.name}": no user "${input.user ?? ''}" (set "user" to one of the configured keys); input ignored`);
        continue;
      }
      try {
        const mapping = compileMapping({ name: input.name, field: input.field, map: input.map, toggle: input.toggle });
        this.inputs.set(input.name, { config: input, mapping, userKey, toggle: initialToggleState() });
      } catch (error) {
        this.logger.error(`input "${input.name}": ${errorMessage(error)}; input ignored`);
      }
    }
    this.readback = new PresenceReadback({
      clock: this.clock,
      client,
      limiter: this.limiter,
      logger: prefixedLogger(this.logger, '[read-back]'),
      intervalMs: config.graph.pollSeconds * 1000,
      userIds: config.users.map((u) => u.id),
      mode: config.auth.mode,
      signedInAccount: async () => this.graph?.tokens.account?.(),
      onPresence: (userId, presence) => this.usersById.get(userId.toLowerCase())?.publisher.observe({ availability: presence.availability, activity: presence.activity }),
      onCall: (event) => this.events.emit('graphCall', event),
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (!this.graph) {
      if (this.deps.graph) this.graph = this.deps.graph;
      else {
        this.graph = createGraphStack(this.config, { logger: prefixedLogger(this.logger, '[graph]'), clock: this.clock, storagePath: this.deps.storagePath });
        this.ownsGraph = true;
      }
    }
    await warnAboutReadableSecrets(secretFilesOf(this.config, this.deps.configFile), this.logger);
    const previous = await this.ledger.load();
    // users given by user principal name: their object id (cached in the storage folder), so the
    // ledger of a previous run, which lists object ids, finds them
    // (not awaited: an unreachable Graph must not hold up the start)
    this.resolving = Promise.all(this.config.users.filter((u) => !isObjectId(u.id)).map((u) => this.resolveObjectId(u.id).catch(() => undefined)));
    const unclean = this.ledger.previousRunUnclean;
    // killed before its listings reached the disk: any configured user may hold a session of ours
    if (unclean) this.logger.info(`the previous run did not stop cleanly; after the start-up grace, sessions nobody asks for are cleared for all ${this.config.users.length} user(s)`);
    const restoredUsers = await this.restoreIntents();
    this.running = true;
    for (const key of this.users.keys()) this.reevaluate(key);
    // Front ends (HomeKit switches, state topics) show what was restored even when the desired
    // state happens not to change.
    for (const key of restoredUsers) {
      const slot = this.users.get(key);
      if (slot) this.events.emit('state', slot.publisher.state());
    }
    this.keepAliveStamp();
    this.readback.start();
    this.logger.info(`started for ${this.users.size} user(s), ${this.inputs.size} input(s)`);
    for (const factory of this.deps.features ?? BUILT_IN_FEATURES) {
      let feature: Startable | null = null;
      try {
        feature = factory(this.config, this, { logger: this.logger, clock: this.clock, storagePath: this.deps.storagePath });
        if (feature) {
          await feature.start();
          this.features.push(feature);
        }
      } catch (error) {
        this.logger.error(`a feature failed to start: ${errorMessage(error)}`);
        if (feature) this.features.push(feature); // stop() still releases what it opened
      }
    }
    if (previous.length > 0 || unclean) {
      this.graceTimer = this.clock.setTimeout(() => {
        this.graceTimer = undefined;
        // user principal names resolve first (from the cache file), so their object ids match
        void this.resolving.then(() => this.takeOverPrevious(unclean ? this.withUnlisted(previous) : previous));
      }, STARTUP_GRACE_MS);
    }
  }

  /** Sessions a previous run left: the publisher takes each over (clears it unless it is wanted). */
  /** The previous run's listed users plus every configured user it may not have listed (it did not stop cleanly). */
  private withUnlisted(previous: readonly string[]): string[] {
    const listed = new Set(previous.map((id) => id.toLowerCase()));
    const unlisted = this.config.users.map((u) => this.ledgerId(u.id)).filter((id) => !listed.has(id.toLowerCase()));
    return [...previous, ...unlisted];
  }

  private takeOverPrevious(previous: readonly string[]): void {
    if (!this.running) return;
    try {
      for (const userId of previous) {
        const slot = this.usersById.get(userId.toLowerCase());
        if (!slot && this.config.users.some((u) => !isObjectId(u.id) && !this.objectIds.has(u.id.toLowerCase()))) {
          // a user given by user principal name is not resolved yet: it may be this one; keep it listed
          this.ledger.release(userId, true);
          continue;
        }
        if (!slot) {
          this.clearLeftover(userId);
          continue;
        }
        if (!slot.publisher.hasSession()) slot.publisher.assumeSession();
        // the publisher now owns the session: its next state says whether it is still there
        this.ledger.release(userId, slot.publisher.hasSession());
      }
    } catch (error) {
      this.logger.error(`taking over the previous run's sessions failed: ${errorMessage(error)}`);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    for (const feature of [...this.features].reverse()) {
      try {
        await feature.stop();
      } catch (error) {
        this.logger.error(`a feature failed to stop: ${errorMessage(error)}`);
      }
    }
    this.features.length = 0;
    this.running = false;
    this.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.clock.clearTimeout(this.aliveTimer);
    this.aliveTimer = undefined;
    this.ignoredLog.flush();
    this.readback.stop();
    for (const slot of this.users.values()) {
      this.clock.clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    const publishers = [...this.users.values()].map((s) => s.publisher);
    if (this.config.onShutdown === 'clear' && this.graph) {
      const asserted = publishers.filter((p) => p.hasSession());
      if (asserted.length > 0) this.logger.info(`clearing presence of ${asserted.length} user(s) before stopping`);
      const all = Promise.all(publishers.map((p) => p.stopAndClear().catch((error: unknown) => this.logger.error(errorMessage(error)))));
      const finished = await this.bounded(all, SHUTDOWN_CLEAR_TIMEOUT_MS);
      if (!finished) this.logger.warn(`gave up clearing after ${SHUTDOWN_CLEAR_TIMEOUT_MS / 1000} s; the rest expire with their sessions`);
    } else {
      for (const p of publishers) p.stop();
      await this.bounded(Promise.all(publishers.map((p) => p.whenIdle())), SHUTDOWN_CLEAR_TIMEOUT_MS);
    }
    this.limiter.close();
    await this.readback.whenIdle().catch(() => undefined);
    await this.ledger.close();
    // The intents stay on disk even with `onShutdown: clear`: the next start asserts them again.
    await this.intentStore.flush();
    if (this.graph && this.ownsGraph) {
      try {
        await this.graph.close();
      } catch (error) {
        this.logger.error(`closing Graph client failed: ${errorMessage(error)}`);
      }
    }
    this.graph = undefined;
    this.events.removeAll();
  }

  /** Resolves true when `work` settles within `ms` on the bridge's clock. */
  private bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), ms);
    });
    return Promise.race([work.then(() => true), timeout]).finally(() => this.clock.clearTimeout(timer));
  }

  signal(signal: Signal): void {
    try {
      const input = this.inputs.get(signal.input);
      if (!input) {
        this.logger.warn(`signal from unknown input "${signal.input}" dropped`);
        return;
      }
      const result = mapSignal(input.mapping, signal, input.toggle);
      input.toggle = result.toggle;
      this.events.emit('signal', { signal, userKey: input.userKey, intent: result.intent });
      if (!result.intent) {
        this.ignoredLog.warn(signal.input, `input "${signal.input}": value ${JSON.stringify(excerpt(signal.value))} ignored${result.reason ? `: ${excerpt(result.reason, 120)}` : ''}`);
        return;
      }
      this.apply(input.userKey, signal.input, result.intent, result.toggle);
    } catch (error) {
      this.logger.error(`input "${signal.input}": signal dropped: ${errorMessage(error)}`);
    }
  }

  inputDisconnected(name: string): void {
    try {
      const input = this.inputs.get(name);
      if (!input) {
        this.logger.warn(`disconnect of unknown input "${name}" ignored`);
        return;
      }
      const onDisconnect = input.config.type === 'serial' ? input.config.onDisconnect : 'keep';
      if (onDisconnect === 'keep') {
        this.logger.info(`input "${name}" disconnected; its presence is kept`);
        return;
      }
      this.logger.info(`input "${name}" disconnected; its presence is dropped`);
      input.toggle = initialToggleState();
      const slot = this.users.get(input.userKey);
      slot?.arbiter.clearInput(name);
      this.intentStore.forget(input.userKey, name);
      this.reevaluate(input.userKey);
    } catch (error) {
      this.logger.error(`input "${name}": ${errorMessage(error)}`);
    }
  }

  setIntent(userKey: string, input: string, intent: Intent): void {
    try {
      if (!this.users.has(userKey)) {
        this.logger.warn(`intent for unknown user "${userKey}" from "${input}" dropped`);
        return;
      }
      this.apply(userKey, input, intent);
    } catch (error) {
      this.logger.error(`intent from "${input}" dropped: ${errorMessage(error)}`);
    }
  }

  async prefer(userKey: string, presence: { availability: string; activity: string } | null, expirationDuration?: string): Promise<void> {
    const slot = this.users.get(userKey);
    if (!slot) throw new Error(`unknown user "${userKey}"`);
    const graph = this.graph;
    if (!graph || !this.running) throw new Error('the bridge is not running');
    const operation = presence ? 'setUserPreferredPresence' : 'clearUserPreferredPresence';
    const detail = presence ? `${presence.availability}/${presence.activity}` : undefined;
    await new Promise<void>((resolve, reject) => {
      this.limiter.submit(this.clock.now(), () => {
        const startedAt = this.clock.now();
        const call = presence
          ? graph.client.setUserPreferredPresence(slot.config.id, presence, expirationDuration)
          : graph.client.clearUserPreferredPresence(slot.config.id);
        const report = (outcome: CallOutcome): void => {
          this.events.emit('graphCall', graphCallEvent({ userKey, operation, detail, startedAt, endedAt: this.clock.now(), outcome }));
        };
        return call.then(
          () => {
            report({ ok: true });
            resolve();
          },
          (error: unknown) => {
            report({ ok: false, error });
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }, { kind: 'command', onRefused: () => reject(new Error('too many commands are waiting for Graph; this one was dropped')) });
    });
  }

  states(): UserState[] {
    return [...this.users.values()].map((s) => s.publisher.state());
  }

  state(userKey: string): UserState | undefined {
    return this.users.get(userKey)?.publisher.state();
  }

  activeIntents(userKey: string): ActiveIntent[] {
    return this.users.get(userKey)?.arbiter.activeIntents(this.clock.now()) ?? [];
  }

  async whenIdle(): Promise<void> {
    // every Graph call passes the limiter, so its in-flight set is the whole picture
    await this.limiter.whenIdle();
  }

  retryAll(): void {
    for (const slot of this.users.values()) slot.publisher.retryNow();
  }

  private apply(userKey: string, input: string, intent: Intent, toggle?: ToggleState): void {
    this.users.get(userKey)?.arbiter.update(input, intent);
    this.reevaluate(userKey);
    // After the Graph call is queued; the store only marks itself dirty and writes later.
    this.intentStore.record(userKey, input, intent, toggle);
    this.keepAliveStamp();
  }

  /** Whether a stored intent of `input` for `userKey` may come back: both still configured, together. */
  private stillDrives(userKey: string, input: string): boolean {
    if (!this.users.has(userKey)) return false;
    const slot = this.inputs.get(input);
    if (slot) return slot.userKey === userKey;
    if (input === 'mqtt-command') return this.config.mqtt !== undefined;
    return (BUILT_IN_INPUTS as readonly string[]).includes(input);
  }

  /** Put the intents a previous run held back into the arbiters (before any input reports). Returns the users concerned. */
  private async restoreIntents(): Promise<Set<string>> {
    const { intents, aliveAt } = await this.intentStore.load();
    const users = new Set<string>();
    if (intents.length === 0) return users;
    const now = this.clock.now();
    const plan = planRestore(intents, { now, aliveAt, maxDownMs: this.restoreLimitMs, stillDrives: (user, input) => this.stillDrives(user, input) });
    const restored = plan.restore.filter((i) => !this.intentStore.has(i.user, i.input)); // a live report beats the disk
    // One line per intent for a desk or two; thousands of users get a count instead of a flood.
    const lineFor = (index: number): ((message: string) => void) => (index < RESTORE_LOG_LINES ? this.logger.info.bind(this.logger) : this.logger.debug.bind(this.logger));
    for (const [index, intent] of restored.entries()) {
      const slot = this.users.get(intent.user);
      if (!slot) continue;
      slot.arbiter.update(intent.input, intent.until === undefined ? { kind: 'set', pair: intent.pair, at: intent.at } : { kind: 'set', pair: intent.pair, at: intent.at, until: intent.until });
      const input = this.inputs.get(intent.input);
      if (input && intent.toggle) input.toggle = intent.toggle;
      users.add(intent.user);
      const ends = intent.until === undefined ? '' : `, until ${new Date(intent.until).toISOString()}`;
      lineFor(index)(`${intent.user}: restored ${formatPresence(intent.pair)} from input "${intent.input}" (asked ${new Date(intent.at).toISOString()}${ends})`);
    }
    for (const [index, { intent, reason }] of plan.dropped.entries()) {
      const why =
        reason === 'ended'
          ? 'its time has ended'
          : reason === 'too-old'
            ? `the bridge was down longer than graph.expiration (${this.config.graph.expiration})`
            : 'that input or user is no longer configured';
      lineFor(index)(`${intent.user}: not restoring ${formatPresence(intent.pair)} from input "${intent.input}": ${why}`);
    }
    if (restored.length > RESTORE_LOG_LINES || plan.dropped.length > RESTORE_LOG_LINES) {
      this.logger.info(`restored ${restored.length} intent(s) of ${users.size} user(s) from before the restart, dropped ${plan.dropped.length} (each at debug level)`);
    }
    this.intentStore.adopt(restored);
    return users;
  }

  /**
   * While intents are held, refresh the alive stamp on disk now and then, so a later start can
   * tell how long the bridge was down. No timer runs while nothing is held.
   */
  private keepAliveStamp(): void {
    if (this.aliveTimer !== undefined || !this.running || this.intentStore.size === 0) return;
    this.aliveTimer = this.clock.setTimeout(() => {
      this.aliveTimer = undefined;
      if (!this.running || this.intentStore.size === 0) return;
      this.intentStore.touch();
      this.keepAliveStamp();
    }, aliveStampIntervalMs(this.restoreLimitMs));
  }

  /**
   * A previous run left a session for a user who is no longer configured: nobody will ever renew
   * or clear it, so clear it now rather than leave the stale presence until it expires.
   */
  private clearLeftover(userId: string): void {
    this.logger.info(`a previous run left a session for user ${userId}, who is no longer configured; clearing it`);
    const client = this.lazyClient();
    this.limiter.submit(this.clock.now(), () => {
      if (!this.running) return null;
      const startedAt = this.clock.now();
      return client.clearPresence(userId).then(
        () => {
          this.events.emit('graphCall', graphCallEvent({ userKey: null, operation: 'clearPresence', startedAt, endedAt: this.clock.now(), outcome: { ok: true } }));
          this.ledger.release(userId, false);
        },
        (error: unknown) => {
          const graphError = error instanceof GraphError ? error : undefined;
          this.events.emit('graphCall', graphCallEvent({ userKey: null, operation: 'clearPresence', startedAt, endedAt: this.clock.now(), outcome: { ok: false, error } }));
          // Retryable: keep it listed so the next start tries again; refused: it expires by itself.
          const retry = graphError === undefined || graphError.retryable;
          this.logger.warn(`clearing the session of user ${userId} failed: ${errorMessage(error)}; ${retry ? 'the next start tries again' : 'it expires by itself'}`);
          this.ledger.release(userId, retry);
        },
      );
    });
  }

  /** Ask the arbiter again and hand the answer to the publisher; wake up when a timed intent ends. */
  private reevaluate(userKey: string): void {
    const slot = this.users.get(userKey);
    if (!slot) return;
    const now = this.clock.now();
    // Front ends showing what an input asked for (HomeKit switches) follow this, not the winner.
    // (only the plugin listens: the daemon's signal path does not rank intents for nobody)
    if (this.events.listens('intents')) this.events.emit('intents', { userKey, intents: slot.arbiter.activeIntents(now) });
    if (!this.running) return;
    slot.publisher.setDesired(slot.arbiter.resolve(now));
    this.clock.clearTimeout(slot.timer);
    slot.timer = undefined;
    const next = slot.arbiter.nextChangeAt(now);
    if (next !== undefined) {
      slot.timer = this.clock.setTimeout(() => {
        slot.timer = undefined;
        try {
          this.reevaluate(userKey);
        } catch (error) {
          this.logger.error(`${userKey}: ${errorMessage(error)}`);
        }
      }, next - now);
    }
  }

  /** The id the session ledger lists a user under: the object id once known. */
  private ledgerId(configuredId: string): string {
    return this.objectIds.get(configuredId.toLowerCase()) ?? configuredId;
  }

  /** Resolves a user principal name (once; the client caches it) and remembers the object id. */
  private async resolveObjectId(configuredId: string): Promise<string> {
    const graph = this.graph;
    if (!graph) throw new Error('the bridge is not running');
    const id = await graph.client.resolveUserId(configuredId);
    const key = configuredId.toLowerCase();
    if (!this.objectIds.has(key)) {
      this.objectIds.set(key, id);
      const slot = this.usersById.get(key);
      if (slot && !this.usersById.has(id.toLowerCase())) this.usersById.set(id.toLowerCase(), slot);
    }
    return id;
  }

  /** Publishers exist from the start; the Graph stack only once started. */
  private lazyClient(): GraphPresenceClient {
    const get = (): GraphPresenceClient => {
      if (!this.graph) throw new Error('the bridge is not running');
      return this.graph.client;
    };
    return {
      get sessionId() {
        return get().sessionId;
      },
      // async: a call made while stopped rejects instead of throwing into the caller
      setPresence: async (...a) => get().setPresence(...a),
      clearPresence: async (...a) => get().clearPresence(...a),
      setUserPreferredPresence: async (...a) => get().setUserPreferredPresence(...a),
      clearUserPreferredPresence: async (...a) => get().clearUserPreferredPresence(...a),
      getPresence: async (...a) => get().getPresence(...a),
      getPresences: async (...a) => get().getPresences(...a),
      getMyPresence: async () => get().getMyPresence(),
      resolveUserId: async (...a) => get().resolveUserId(...a),
    };
  }
}

/**
 * The one place where inputs, arbiters, publishers, read-back and features are wired, shared by
 * the Homebridge plugin and `presence-bridge run`. Nothing happens until `start()`.
 */
export function createBridge(config: PresenceBridgeConfig, deps: BridgeDeps): CoreBridge {
  return new PresenceBridgeCore(config, deps);
}
