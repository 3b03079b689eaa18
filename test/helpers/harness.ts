import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreBridge } from '../../src/bridge.js';
import { createBridge } from '../../src/bridge.js';
import type { UserState } from '../../src/bridgeTypes.js';
import type { AnyFeature } from '../../src/core/registeredFeature.js';
import type { PresenceGate } from '../../src/feature.js';
import { validateConfig } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import type { Emulator } from '../../src/emulator/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { Logger } from '../../src/logger.js';
import { ManualClock, yieldToEventLoop } from '../../src/shared/clock.js';
import { capturingLogger, type CapturingLogger } from './logger.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface HarnessOptions {
  /** Extra config merged over the emulator-pointing base (graph settings are merged one level). */
  readonly config?: Record<string, unknown>;
  readonly graph?: Record<string, unknown>;
  /** How many of the emulator's users to configure (keys u0, u1, …); default 1. */
  readonly userCount?: number;
  /** Emulator options besides the clock. */
  readonly emulator?: { tokenLifetimeSeconds?: number; logger?: Logger; appPermissions?: readonly string[] };
  readonly start?: boolean;
  /** Which emulator app signs in: 0 has Presence.ReadWrite.All, 1 no presence permission. */
  readonly appIndex?: number;
  readonly features?: readonly AnyFeature[];
  /** Gates besides the features' (BridgeDeps.gates). */
  readonly gates?: readonly PresenceGate[];
}

export interface LoggedCall {
  /** Minutes (fractional) since the harness started. */
  readonly t: number;
  /** `set Busy/InACall`, `clear`, `get`, `prefer …`, with the user key. */
  readonly call: string;
  readonly status: number;
}

/** One emulator, one bridge, one ManualClock shared by both. */
export class Harness {
  readonly states: UserState[] = [];
  private constructor(
    readonly clock: ManualClock,
    readonly emulator: Emulator,
    readonly bridge: CoreBridge,
    readonly config: PresenceBridgeConfig,
    readonly logger: CapturingLogger,
    readonly storage: string,
    readonly startedAt: number,
  ) {
    bridge.events.on('state', (s) => this.states.push(s));
  }

  static async create(options: HarnessOptions = {}): Promise<Harness> {
    const clock = new ManualClock();
    const emulator = await startEmulator({ clock, ...(options.emulator ?? {}) });
    const userCount = options.userCount ?? 1;
    const users = Array.from({ length: userCount }, (_, i) => {
      const u = emulator.users[i % emulator.users.length]!;
      return { key: `u${i}`, id: i < emulator.users.length ? u.id : `${u.id.slice(0, -12)}${String(i).padStart(12, '0')}` };
    });
    const raw = {
      ...emulatorConfigBlock(emulator, { appIndex: options.appIndex, graph: { expiration: 'PT1H', pollSeconds: 0, ...(options.graph ?? {}) } }),
      mqtt: { url: 'mqtt://127.0.0.1:1' }, // never connected: the tests pass no features
      users,
      inputs: [
        { type: 'mqtt', name: 'desk', topic: 'desk/button', user: 'u0', map: { busy: 'Busy/InACall', free: 'Available/Available', dnd: 'DoNotDisturb/Presenting', away: 'Away/Away', call: 'Busy/InAConferenceCall', off: 'clear', single: 'toggle', meeting: { set: 'Busy/InAConferenceCall', for: 'PT30M' } }, toggle: ['Busy/InACall'] },
        { type: 'serial', name: 'headset', path: '/dev/null', user: 'u0', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
      ],
      ...(options.config ?? {}),
    };
    const result = validateConfig(raw);
    if (!result.ok) throw new Error(`test config invalid: ${result.errors.join('; ')}`);
    const storage = await mkdtemp(join(tmpdir(), 'pb-bridge-'));
    const logger = capturingLogger();
    const bridge = createBridge(result.config, { logger, clock, storagePath: storage, features: options.features ?? [], ...(options.gates ? { gates: options.gates } : {}), random: () => 0.5 });
    const harness = new Harness(clock, emulator, bridge, result.config, logger, storage, clock.now());
    if (options.start !== false) {
      await bridge.start();
      await harness.settle();
    }
    return harness;
  }

  /** Let every in-flight call land (real HTTPS round trips), without moving the clock. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await yieldToEventLoop();
      await this.bridge.whenIdle();
    }
  }

  /** Move the shared clock, letting each call a timer starts finish before the next timer fires. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms, () => this.settle());
  }

  /** Signal from an input, then let the resulting calls land. */
  async signal(input: string, value: string): Promise<void> {
    this.bridge.signal({ input, value, at: this.clock.now() });
    await this.settle();
  }

  userId(key: string): string {
    const user = this.config.users.find((u) => u.key === key);
    if (!user) throw new Error(`no user ${key}`);
    return user.id;
  }

  presenceOf(key = 'u0'): string {
    const p = this.emulator.presenceOf(this.userId(key));
    return `${p.availability}/${p.activity}`;
  }

  /** Presence requests (Graph, not sign-in) as `set Pair` / `clear` / `get`, with status and time. */
  calls(options: { user?: string; includeUnauthorized?: boolean } = {}): LoggedCall[] {
    const keyById = new Map(this.config.users.map((u) => [u.id.toLowerCase(), u.key]));
    const out: LoggedCall[] = [];
    for (const e of this.emulator.requestLog()) {
      if (e.kind === 'identity') continue;
      if (e.status === 401 && !options.includeUnauthorized) continue;
      const m = /^\/users\/([^/]+)\/presence\/(setPresence|clearPresence|setUserPreferredPresence|clearUserPreferredPresence)$/.exec(e.route);
      let call: string;
      let user: string | undefined;
      if (m) {
        user = keyById.get(decodeURIComponent(m[1]!).toLowerCase()) ?? m[1];
        const body = (e.body ?? {}) as { availability?: string; activity?: string };
        call = m[2] === 'setPresence' ? `set ${body.availability}/${body.activity}` : m[2] === 'clearPresence' ? 'clear' : m[2]!;
      } else if (e.route === '/communications/getPresencesByUserId') {
        call = 'get';
      } else continue;
      if (options.user !== undefined && user !== options.user) continue;
      out.push({ t: Math.round(((e.at - this.startedAt) / MINUTE) * 1e6) / 1e6, call: user && this.config.users.length > 1 && !options.user ? `${user} ${call}` : call, status: e.status });
    }
    return out;
  }

  /** Just the call names, e.g. ['set Busy/InACall', 'clear']. */
  callNames(options: { user?: string } = {}): string[] {
    return this.calls(options).map((c) => c.call);
  }

  /** Stop the bridge, moving the clock a second at a time while it waits (rate limit, bound). */
  async stop(): Promise<void> {
    let done = false;
    const stopping = this.bridge.stop().finally(() => {
      done = true;
    });
    for (let i = 0; i < 20 && !done; i++) {
      await this.settle();
      if (!done) await this.clock.advance(1000, () => this.settle());
    }
    await stopping;
  }

  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await this.emulator.close();
      await rm(this.storage, { recursive: true, force: true });
    }
  }
}
