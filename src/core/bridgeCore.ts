import type { Bridge, BridgeEvents, DroppedEvent, UserState } from '../bridgeTypes.js';
import type { InputConfig, PresenceBridgeConfig, UserConfig } from '../config/schema.js';
import { registeredOf, type AnyFeature } from './registeredFeature.js';
import { FeatureHost, reservedInputsOf } from './featureHost.js';
import { applyGates, earliest, nextGateChange } from './gates.js';
import type { GraphStack } from './graphCalls.js';
import { clearSessionOf, lazyClient, preferPresence } from './graphCalls.js';
import type { InputSlot } from './inputs.js';
import { compileInputs, dropsOnDisconnect } from './inputs.js';
import { restoreIntents, takeOverPrevious, withUnlisted } from './startup.js';
import type { UserSlot, UserSlotOptions } from './userTable.js';
import { createUserSlot, UserTable } from './userTable.js';
import { TypedEvents } from '../events.js';
import type { BridgeControl, InstanceIdentity, PresenceGate, ReadinessRegistry, RouteRegistry } from '../feature.js';
import { secretFilesOf, warnAboutReadableSecrets } from '../files/secretFiles.js';
import { createGraphStack } from '../graph/index.js';
import type { GraphPresenceClient } from '../graph/types.js';
import { isObjectId } from '../graph/userIdResolver.js';
import type { Logger } from '../logger.js';
import { errorMessage, prefixedLogger } from '../logger.js';
import { excerpt } from '../shared/payloadGuard.js';
import { LogLimiter } from '../shared/logLimiter.js';
import { parseIsoDuration } from '../presence/duration.js';
import type { Intent, Signal } from '../presence/intent.js';
import { aliveStampIntervalMs } from '../presence/intentRestore.js';
import type { ToggleState } from '../presence/mapping.js';
import { initialToggleState, mapSignal } from '../presence/mapping.js';
import type { ActiveIntent } from '../presence/presenceArbiter.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { UndiciHttpClient } from '../shared/httpClient.js';
import { addCoreReadiness, ReadinessChecks } from '../shared/readiness.js';
import { RouteTable } from '../shared/routeTable.js';
import { IntentStore } from '../session/intentStore.js';
import { PresenceReadback } from '../session/presenceReadback.js';
import { RenewalMargin } from '../session/renewalMargin.js';
import { RequestLimiter } from '../session/requestLimiter.js';
import { SessionLedger } from '../session/sessionLedger.js';

export type { GraphStack } from './graphCalls.js';

export interface BridgeDeps {
  readonly logger: Logger;
  /** Defaults to the system clock. Tests and benchmarks pass a ManualClock. */
  readonly clock?: Clock;
  /** Folder for token caches and state (Homebridge's storage path, or `--storage`). */
  readonly storagePath: string;
  /** A ready Graph stack; when given, the caller owns it and closes it. */
  readonly graph?: GraphStack;
  /**
   * Features to run after the core, in start order (`createBridge` in src/bridge.ts defaults
   * them to the registry, which is what both the daemon and the plugin run). A bare
   * FeatureFactory is wrapped.
   */
  readonly features?: readonly AnyFeature[];
  /**
   * Every feature the program knows (the registry), for the input names they reserve: a stored
   * intent of a reserved input (`mqtt-command`, `homekit`) is restored even when the features run
   * here are fewer.
   */
  readonly registry?: readonly AnyFeature[];
  /** Gates applied after the features' own (tests). */
  readonly gates?: readonly PresenceGate[];
  /** The one local HTTP server's route table, when the caller serves it; created otherwise ({@link CoreBridge.routes}). */
  readonly routes?: RouteRegistry;
  /** Which instance of a fleet this is; default `{ id: config.name, shard: { index: 0, count: 1 } }`. */
  readonly instance?: InstanceIdentity;
  /** Where the core and the features say whether they are ready (`/readyz`); created when not given. */
  readonly readiness?: ReadinessRegistry;
  /** Jitter source for retry backoff (defaults to Math.random). */
  readonly random?: () => number;
  /** The file the config came from, checked at start like the key files it names (secrets not readable by others). */
  readonly configFile?: string;
}

/** The bridge as createBridge returns it: the shared {@link Bridge} plus a few operational extras. */
export interface CoreBridge extends Bridge {
  readonly config: PresenceBridgeConfig;
  /** Routes the features registered, for the one local HTTP server to serve. */
  readonly routes: RouteRegistry;
  readonly instance: InstanceIdentity;
  /** Resolves once no Graph call is in flight (the CLI and tests wait on it; nothing else does). */
  whenIdle(): Promise<void>;
  /** Forget refusals and backoff for every user and try again now (after a config or consent fix). */
  retryAll(): void;
  setUsers(users: readonly UserConfig[]): void;
  setInputs(inputs: readonly InputConfig[]): void;
}

/** How long `onShutdown: clear` waits for the clears before stopping anyway. */
export const SHUTDOWN_CLEAR_TIMEOUT_MS = 5_000;

/**
 * After a start, sessions a crashed previous run left behind are cleared once the inputs had this
 * long to report (MQTT retained messages arrive right after connecting), unless they are wanted.
 */
export const STARTUP_GRACE_MS = 5_000;

/**
 * The core: routes signals and intents through each user's arbiter and the gates to their
 * publisher, and runs the features around it. Start-up (restore, ledger), inputs, user slots,
 * gates and features live in src/core/.
 */
class PresenceBridgeCore implements CoreBridge {
  readonly events: TypedEvents<BridgeEvents>;
  readonly routes: RouteRegistry;
  readonly instance: InstanceIdentity;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly users = new UserTable();
  /** Settles once every user principal name was resolved or failed to be (at start). */
  private resolving: Promise<unknown> = Promise.resolve();
  private readonly inputs: Map<string, InputSlot>;
  /** Input names features deliver through setIntent; their stored intents may come back. */
  private readonly reservedInputs: ReadonlySet<string>;
  private readonly limiter: RequestLimiter;
  private readonly readback: PresenceReadback;
  private readonly features: FeatureHost;
  /** Rebuilt when the users or inputs served change (working hours know users and exempt inputs by name). */
  private gates: readonly PresenceGate[];
  private readonly http = new UndiciHttpClient();
  private readonly ledger: SessionLedger;
  private graceTimer: TimerHandle | undefined;
  /** Each input's latest intent per user on disk, restored at start (issue 20). */
  private readonly intentStore: IntentStore;
  /** Nothing is restored after a down time longer than this: `graph.expiration`, a session's life. */
  private readonly restoreLimitMs: number;
  private aliveTimer: TimerHandle | undefined;
  /** Debug lines quoting values no mapping took: a few per input a minute, each cut short. */
  private readonly ignoredLog: LogLimiter;
  private readonly client: GraphPresenceClient;
  private readonly slotOptions: UserSlotOptions;
  /** The Graph ids read-back polls: the users served now (it reads the list at every poll). */
  private readonly readbackIds: string[];
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
    this.routes = deps.routes ?? new RouteTable();
    this.instance = deps.instance ?? { id: config.name, shard: { index: 0, count: 1 } };
    this.ignoredLog = new LogLimiter(this.logger, this.clock, { level: 'debug', perKey: 3, total: 20, noun: 'ignored value(s)' });
    this.ledger = new SessionLedger(deps.storagePath, prefixedLogger(this.logger, '[session]'));
    this.limiter = new RequestLimiter(this.clock, config.graph.maxRequestsPer30s, prefixedLogger(this.logger, '[graph]'));
    this.intentStore = new IntentStore(deps.storagePath, this.clock, prefixedLogger(this.logger, '[intents]'));
    this.restoreLimitMs = parseIsoDuration(config.graph.expiration) ?? 3_600_000;
    this.client = lazyClient(() => this.graph);
    this.slotOptions = this.createSlotOptions();
    this.readbackIds = [];
    for (const user of config.users) this.addUser(user);
    this.inputs = compileInputs(config, this.logger);
    this.readback = this.createReadback();
    const definitions = (deps.features ?? []).map(registeredOf);
    this.reservedInputs = reservedInputsOf([...(deps.registry ?? []).map(registeredOf), ...definitions], config);
    this.features = new FeatureHost({
      definitions,
      config,
      logger: this.logger,
      clock: this.clock,
      storagePath: deps.storagePath,
      bridge: this.control(),
      events: this.events.listenOnly(),
      http: this.http,
      routes: this.routes,
      instance: this.instance,
      readiness: this.coreReadiness(deps.readiness ?? new ReadinessChecks()),
    });
    this.gates = [...this.features.gates(), ...(deps.gates ?? [])];
  }

  /** The core's own readiness checks (started, signed in), beside the features'. */
  private coreReadiness(readiness: ReadinessRegistry): ReadinessRegistry {
    addCoreReadiness(readiness, {
      clock: this.clock,
      running: () => this.running,
      stopping: () => this.stopping !== undefined,
      getToken: () => this.graph?.tokens.getToken(),
      onGraphCall: (listener) => this.events.on('graphCall', listener),
    });
    return readiness;
  }

  /** What every user's slot shares (one renewal margin for all). */
  private createSlotOptions(): UserSlotOptions {
    return {
      clock: this.clock,
      client: this.client,
      limiter: this.limiter,
      logger: prefixedLogger(this.logger, '[session]'),
      expiration: this.config.graph.expiration,
      expirationMs: this.restoreLimitMs,
      random: this.deps.random,
      renewalMargin: new RenewalMargin(this.config.graph.timeoutSeconds * 1000),
      onState: (state, publisher) => {
        // a user principal name not resolved yet cannot hold a session: no presence call went out
        const ledgerId = this.users.ledgerId(state.userId);
        if (isObjectId(ledgerId)) this.ledger.update(ledgerId, state.desired !== null || state.confirmed !== null || publisher.hasSession());
        this.events.emit('state', state);
      },
      onCall: (event) => this.events.emit('graphCall', event),
      // the ledger lists object ids, so a user principal name is resolved before the first set
      beforeSet: (user) => (isObjectId(user.id) ? this.ledger.ensureListed(user.id) : this.resolveObjectId(user.id).then((id) => this.ledger.ensureListed(id))),
    };
  }

  private createReadback(): PresenceReadback {
    const { config } = this;
    return new PresenceReadback({
      clock: this.clock,
      client: this.client,
      limiter: this.limiter,
      logger: prefixedLogger(this.logger, '[read-back]'),
      intervalMs: config.graph.pollSeconds * 1000,
      userIds: this.readbackIds,
      mode: config.auth.mode,
      signedInAccount: async () => this.graph?.tokens.account?.(),
      onPresence: (userId, presence) => this.users.byUserId(userId)?.publisher.observe({ availability: presence.availability, activity: presence.activity }),
      onCall: (event) => this.events.emit('graphCall', event),
    });
  }

  /** What features may call: no events (they get a listen-only view), no start or stop. */
  private control(): BridgeControl {
    return Object.freeze({
      signal: (signal: Signal) => this.signal(signal),
      inputDisconnected: (input: string) => this.inputDisconnected(input),
      dropped: (drop: DroppedEvent) => this.dropped(drop),
      setIntent: (userKey: string, input: string, intent: Intent) => this.setIntent(userKey, input, intent),
      prefer: (userKey: string, presence: { availability: string; activity: string } | null, expirationDuration?: string) => this.prefer(userKey, presence, expirationDuration),
      states: () => this.states(),
      activeIntents: (userKey: string) => this.activeIntents(userKey),
      state: (userKey: string) => this.state(userKey),
      setUsers: (users: readonly UserConfig[]) => this.setUsers(users),
      setInputs: (inputs: readonly InputConfig[]) => this.setInputs(inputs),
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
    const restoredUsers = await restoreIntents({
      store: this.intentStore,
      users: this.users,
      inputs: this.inputs,
      now: this.clock.now(),
      maxDownMs: this.restoreLimitMs,
      expiration: this.config.graph.expiration,
      logger: this.logger,
      stillDrives: (user, input) => this.stillDrives(user, input),
    });
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
    await this.features.start();
    if (previous.length > 0 || unclean) this.armStartupGrace(unclean ? withUnlisted(previous, this.config.users, this.users) : previous);
  }

  /** After the grace, the sessions a previous run left are taken over or cleared. */
  private armStartupGrace(previous: readonly string[]): void {
    this.graceTimer = this.clock.setTimeout(() => {
      this.graceTimer = undefined;
      // user principal names resolve first (from the cache file), so their object ids match
      void this.resolving.then(() => {
        if (!this.running) return;
        takeOverPrevious({ previous, configured: this.config.users, users: this.users, ledger: this.ledger, logger: this.logger, clearLeftover: (userId) => this.clearSession(userId, `a previous run left a session for user ${userId}, who is no longer configured; clearing it`) });
      });
    }, STARTUP_GRACE_MS);
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await this.features.stop();
    this.running = false;
    this.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.clock.clearTimeout(this.aliveTimer);
    this.aliveTimer = undefined;
    this.ignoredLog.flush();
    this.readback.stop();
    await this.stopPublishers();
    this.limiter.close();
    await this.readback.whenIdle().catch(() => undefined);
    await this.ledger.close();
    // The intents stay on disk even with `onShutdown: clear`: the next start asserts them again.
    await this.intentStore.flush();
    await this.http.close().catch((error: unknown) => this.logger.error(`closing the HTTP client failed: ${errorMessage(error)}`));
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

  /** `onShutdown: clear` clears every asserted session (bounded); `keep` lets them run out. */
  private async stopPublishers(): Promise<void> {
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

  dropped(drop: DroppedEvent): void {
    this.events.emit('dropped', drop);
  }

  inputDisconnected(name: string): void {
    try {
      const input = this.inputs.get(name);
      if (!input) {
        this.logger.warn(`disconnect of unknown input "${name}" ignored`);
        return;
      }
      if (!dropsOnDisconnect(input.config)) {
        this.logger.info(`input "${name}" disconnected; its presence is kept`);
        return;
      }
      this.logger.info(`input "${name}" disconnected; its presence is dropped`);
      input.toggle = initialToggleState();
      this.users.get(input.userKey)?.arbiter.clearInput(name);
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
    await preferPresence({
      limiter: this.limiter,
      clock: this.clock,
      client: graph.client,
      userKey,
      userId: slot.config.id,
      presence,
      expirationDuration,
      onCall: (event) => this.events.emit('graphCall', event),
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

  setUsers(users: readonly UserConfig[]): void {
    try {
      const wanted = new Set(users.map((u) => u.key));
      const before = this.users.size;
      // before a joiner's first evaluation, so gates (working hours) know them
      this.rebuildGates(users, [...this.inputs.values()].map((i) => i.config));
      let changed = false;
      for (const key of [...this.users.keys()]) if (!wanted.has(key)) {
        this.removeUser(key);
        changed = true;
      }
      for (const user of users) if (!this.users.has(user.key)) {
        this.addUser(user);
        changed = true;
      }
      if (changed) {
        this.logger.info(`now serving ${this.users.size} user(s) (was ${before})`);
        this.events.emit('served', { users: this.servedUsers(), addedInputs: [], removedInputs: [] });
      }
    } catch (error) {
      this.logger.error(`changing the users failed: ${errorMessage(error)}`);
    }
  }

  /**
   * Serve exactly these inputs: an input that is new or whose config changed is compiled afresh
   * (one naming no served user is logged and left out, as at start); one that went is dropped with
   * the intent it held. Unchanged inputs keep their toggle position.
   */
  setInputs(inputs: readonly InputConfig[]): void {
    try {
      const next = compileInputs({ ...this.config, users: this.servedUsers(), inputs: [...inputs] }, this.logger);
      const added: InputConfig[] = [];
      const removed: InputConfig[] = [];
      for (const [name, slot] of [...this.inputs]) {
        const kept = next.get(name);
        if (kept && kept.userKey === slot.userKey && JSON.stringify(kept.config) === JSON.stringify(slot.config)) continue;
        this.inputs.delete(name);
        removed.push(slot.config);
        this.dropInputIntent(slot.userKey, name);
      }
      for (const [name, slot] of next) {
        if (this.inputs.has(name)) continue;
        this.inputs.set(name, slot);
        added.push(slot.config);
      }
      if (added.length === 0 && removed.length === 0) return;
      this.rebuildGates(this.servedUsers(), [...this.inputs.values()].map((i) => i.config));
      this.logger.info(`inputs: ${added.length} added, ${removed.length} removed; ${this.inputs.size} in all`);
      this.events.emit('served', { users: this.servedUsers(), addedInputs: added, removedInputs: removed });
    } catch (error) {
      this.logger.error(`changing the inputs failed: ${errorMessage(error)}`);
    }
  }

  private rebuildGates(users: readonly UserConfig[], inputs: readonly InputConfig[]): void {
    this.gates = [...this.features.gates({ ...this.config, users: [...users], inputs: [...inputs] }), ...(this.deps.gates ?? [])];
  }

  private servedUsers(): UserConfig[] {
    return [...this.users.values()].map((s) => s.config);
  }

  /** A removed input's intent goes: from the user's arbiter (when still served) and from the store. */
  private dropInputIntent(userKey: string, input: string): void {
    this.intentStore.forget(userKey, input);
    const slot = this.users.get(userKey);
    if (!slot) return;
    slot.arbiter.clearInput(input);
    this.reevaluate(userKey);
  }

  /** One user's slot, served from now on (at construction, or added at runtime). */
  private addUser(user: UserConfig): void {
    this.users.add(createUserSlot(user, this.slotOptions));
    this.readbackIds.push(user.id);
    if (!this.running) return;
    if (!isObjectId(user.id)) void this.resolveObjectId(user.id).catch(() => undefined);
    this.reevaluate(user.key);
  }

  /**
   * Stops serving a user: their wake-up and publisher stop, their stored intents go, and a session
   * of ours is cleared the way a user removed between two runs is (issue 20).
   */
  private removeUser(key: string): void {
    const slot = this.users.remove(key);
    if (!slot) return;
    this.clock.clearTimeout(slot.timer);
    slot.timer = undefined;
    const index = this.readbackIds.indexOf(slot.config.id);
    if (index >= 0) this.readbackIds.splice(index, 1);
    for (const intent of slot.arbiter.activeIntents(this.clock.now())) this.intentStore.forget(key, intent.input);
    slot.publisher.stop();
    const ledgerId = this.users.ledgerId(slot.config.id);
    void slot.publisher.whenIdle().then(() => {
      if (slot.publisher.hasSession()) this.clearSession(ledgerId, `${key} is no longer served; clearing their session`);
      else if (isObjectId(ledgerId)) this.ledger.release(ledgerId, false);
    });
  }

  private apply(userKey: string, input: string, intent: Intent, toggle?: ToggleState): void {
    if (!this.users.has(userKey)) {
      this.logger.debug(`intent from "${input}" for user "${userKey}", who is not served, dropped`);
      return;
    }
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
    return this.reservedInputs.has(input);
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

  /** A session nobody will renew (a user no longer configured or served): clear it now. */
  private clearSession(userId: string, why: string): void {
    this.logger.info(why);
    clearSessionOf(userId, {
      limiter: this.limiter,
      clock: this.clock,
      client: this.client,
      ledger: this.ledger,
      logger: this.logger,
      isRunning: () => this.running,
      onCall: (event) => this.events.emit('graphCall', event),
    });
  }

  /**
   * Ask the arbiter again, pass its answer through the gates and hand the result to the publisher;
   * wake up when a timed intent ends or a gate's answer may change, whichever comes first.
   */
  private reevaluate(userKey: string): void {
    const slot = this.users.get(userKey);
    if (!slot) return;
    const now = this.clock.now();
    // Front ends showing what an input asked for (HomeKit switches) follow this, not the winner.
    // (only the plugin listens: the daemon's signal path does not rank intents for nobody)
    if (this.events.listens('intents')) this.events.emit('intents', { userKey, intents: slot.arbiter.activeIntents(now) });
    if (!this.running) return;
    const { desired, gated } = applyGates(this.gates, { userKey, desired: slot.arbiter.resolve(now), intents: () => slot.arbiter.activeIntents(now), now, logger: this.logger });
    slot.publisher.setDesired(desired, gated);
    this.wakeAt(slot, now, earliest(slot.arbiter.nextChangeAt(now), nextGateChange(this.gates, userKey, now, this.logger)));
  }

  private wakeAt(slot: UserSlot, now: number, at: number | undefined): void {
    this.clock.clearTimeout(slot.timer);
    slot.timer = undefined;
    if (at === undefined) return;
    slot.timer = this.clock.setTimeout(() => {
      slot.timer = undefined;
      try {
        this.reevaluate(slot.config.key);
      } catch (error) {
        this.logger.error(`${slot.config.key}: ${errorMessage(error)}`);
      }
    }, at - now);
  }

  /** Resolves a user principal name (once; the client caches it) and remembers the object id. */
  private async resolveObjectId(configuredId: string): Promise<string> {
    const graph = this.graph;
    if (!graph) throw new Error('the bridge is not running');
    const id = await graph.client.resolveUserId(configuredId);
    this.users.rememberObjectId(configuredId, id);
    return id;
  }
}

/**
 * The one place where inputs, arbiters, gates, publishers, read-back and features are wired,
 * shared by the Homebridge plugin and `presence-bridge run`. Nothing happens until `start()`.
 */
export function createCoreBridge(config: PresenceBridgeConfig, deps: BridgeDeps): CoreBridge {
  return new PresenceBridgeCore(config, deps);
}
