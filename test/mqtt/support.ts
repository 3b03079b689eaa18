import { EventEmitter } from 'node:events';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { capturingLogger, type CapturingLogger } from '../helpers/logger.js';
import { RecordingBridge as SharedRecordingBridge } from '../helpers/recordingBridge.js';
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

/** The shared recording Bridge with `users` in a blank state at `at`, signalling a change on each call. */
export class RecordingBridge extends SharedRecordingBridge {
  constructor(users: { key: string; id: string }[], at = 0) {
    super({ states: users.map((u) => userState(u.key, { userId: u.id, updatedAt: at })), onRecord: changed });
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
