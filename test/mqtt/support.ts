import { EventEmitter } from 'node:events';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { TypedEvents } from '../../src/events.js';
import type { Bridge, BridgeEvents, UserState } from '../../src/bridgeTypes.js';
import type { Intent, Signal } from '../../src/presence/intent.js';
import { silentLogger } from '../../src/logger.js';
import { capturingLogger, type CapturingLogger } from '../helpers/logger.js';
import { userState } from '../helpers/userState.js';

/** Every recorder below calls `changed()`; `waitFor` re-checks its condition on each change. */
const changes = new EventEmitter();
changes.setMaxListeners(0);
export function changed(): void {
  changes.emit('change');
}

/**
 * Resolves once `condition()` is true, re-checked on every recorded change; fails after
 * `timeoutMs`. `tick`, when given, runs between checks while waiting (e.g. moving a ManualClock
 * so that timers the code under test scheduled can fire); the condition never depends on it.
 */
export function waitFor(condition: () => boolean, what = 'condition', timeoutMs = 20_000, tick?: () => Promise<void>): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      changes.off('change', check);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const check = (): void => {
      let ok: boolean;
      try {
        ok = condition();
      } catch {
        ok = false;
      }
      if (ok) finish();
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs);
    changes.on('change', check);
    if (tick) {
      const loop = async (): Promise<void> => {
        while (!done) {
          await tick();
          check();
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      loop().catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
    }
  });
}

/** A Bridge that records what the MQTT feature asks of it (an in-process interface, not a protocol). */
export class RecordingBridge implements Bridge {
  readonly events = new TypedEvents<BridgeEvents>(silentLogger);
  readonly signals: Signal[] = [];
  readonly intents: { userKey: string; input: string; intent: Intent }[] = [];
  readonly prefers: { userKey: string; presence: { availability: string; activity: string } | null; expiration?: string }[] = [];
  preferError: Error | undefined;
  private readonly current = new Map<string, UserState>();

  constructor(users: { key: string; id: string }[], at = 0) {
    for (const u of users) this.current.set(u.key, userState(u.key, { userId: u.id, updatedAt: at }));
  }

  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  signal(signal: Signal): void {
    this.signals.push(signal);
    changed();
  }
  inputDisconnected(): void {}
  setIntent(userKey: string, input: string, intent: Intent): void {
    this.intents.push({ userKey, input, intent });
    changed();
  }
  prefer(userKey: string, presence: { availability: string; activity: string } | null, expiration?: string): Promise<void> {
    this.prefers.push(expiration === undefined ? { userKey, presence } : { userKey, presence, expiration });
    changed();
    return this.preferError ? Promise.reject(this.preferError) : Promise.resolve();
  }
  states(): UserState[] {
    return [...this.current.values()];
  }
  state(userKey: string): UserState | undefined {
    return this.current.get(userKey);
  }
  /** Changes a user's state and emits it, as the core does. */
  update(userKey: string, patch: Partial<UserState>): void {
    const next = { ...this.current.get(userKey)!, ...patch };
    this.current.set(userKey, next);
    this.events.emit('state', next);
  }
}

export interface Received {
  readonly topic: string;
  readonly text: string;
  readonly retain: boolean;
}

/** A plain MQTT client that records every message on `filters` (default everything). */
export class Watcher {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {}

  static async connect(url: string, protocolVersion: 4 | 5, filters: string[] = ['#'], options: IClientOptions = {}): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 100, clean: true, ...options });
    const watcher = new Watcher(client);
    client.on('message', (topic, payload, packet) => {
      watcher.messages.push({ topic, text: payload.toString('utf8'), retain: packet.retain });
      changed();
    });
    client.on('connect', () => {
      // A clean session after a broker restart: subscribe again.
      void client.subscribeAsync(filters, { qos: 1 }).then(changed, () => undefined);
      changed();
    });
    client.on('close', changed);
    await client.subscribeAsync(filters, { qos: 1 });
    return watcher;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  last(topic: string): Received | undefined {
    return this.on(topic).at(-1);
  }

  json(topic: string): unknown {
    const m = this.last(topic);
    return m === undefined ? undefined : JSON.parse(m.text);
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** The shared capturing logger, signalling a change (for `waitFor`) on each line. */
export function recordingLogger(): CapturingLogger {
  return capturingLogger(changed);
}
