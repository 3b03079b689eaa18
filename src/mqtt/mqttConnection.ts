import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import mqtt from 'mqtt';
import type { IClientOptions, IClientPublishOptions, ISubscriptionGrant, MqttClient } from 'mqtt';
import type { MqttConfig } from './configSchema.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { maskUrl } from '../maskUrl.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { isLoopbackHost } from '../shared/httpHelpers.js';

/** True for `localhost`, 127.0.0.0/8 and ::1: a broker only this machine can reach (one test for every local server and client). */
export { isLoopbackHost };

/** Called for every message on a subscribed filter; `retained` is true for a broker's stored value. */
export type MessageHandler = (topic: string, payload: Buffer, retained: boolean) => void;
/** Called after each (re)connection, once subscriptions are in place and `online` is out. */
export type ConnectHandler = (info: { readonly first: boolean; readonly sessionPresent: boolean }) => void;

export interface MqttConnectionOptions {
  readonly config: MqttConfig;
  readonly logger: Logger;
  /**
   * Times the reconnect backoff, the stop bound and how long a connection lasted; the system
   * clock by default. Real time, not the bridge's clock: the demo's sped-up clock must not speed
   * up retries against a real broker. Tests inject a ManualClock to move these timers.
   */
  readonly clock?: Clock;
  /** Real-time reconnect backoff: first delay, doubled per failure up to the maximum. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly connectTimeoutMs?: number;
  readonly keepaliveSeconds?: number;
  /** How long `stop` waits for the broker before cutting the connection. */
  readonly stopTimeoutMs?: number;
  /**
   * A second, publish-only connection (the retained state topics): a clean session with this
   * suffix on the client id, no last will and no `online`/`offline` status of its own.
   */
  readonly publishOnly?: { readonly clientIdSuffix: string };
  /** MQTT 5 Maximum Packet Size asked of the broker (see {@link packetLimitFor}). */
  readonly maxPacketBytes?: number;
  /** The fleet shard this instance is; it picks the status topic ({@link statusTopic}). */
  readonly shard?: ShardOfFleet;
}

/**
 * Room for everything in a PUBLISH besides the payload: fixed header (up to 5 bytes), topic
 * length and topic, packet id and properties. A topic longer than about 1 KiB with a payload at
 * the limit is not delivered; no device topic is that long.
 */
export const PACKET_OVERHEAD_BYTES = 1024;

/**
 * The Maximum Packet Size (MQTT 5 CONNECT property) that matches a payload limit: the broker then
 * never sends a packet the payload guard would refuse anyway, so an oversized message is not read
 * into memory at all. https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901050
 */
export function packetLimitFor(maxPayloadBytes: number): number {
  return maxPayloadBytes + PACKET_OVERHEAD_BYTES;
}

/**
 * A warning when the bridge would connect to a broker beyond this machine without credentials
 * (no username, none in the URL, no client certificate): then anyone who can reach that broker
 * can publish on the bridge's topics. Undefined when there is nothing to warn about.
 */
export function credentialWarning(config: Pick<MqttConfig, 'url' | 'username' | 'cert'>): string | undefined {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    return undefined; // the config check reports it
  }
  if (isLoopbackHost(url.hostname)) return undefined;
  if (config.username !== undefined || url.username !== '' || config.cert !== undefined) return undefined;
  return `connecting to ${url.hostname} without credentials: whoever can reach that broker can drive presence through the bridge's topics; give the bridge a user (mqtt.username and mqtt.password) and an ACL (docs/mqtt.md, "Access control")`;
}

export const STATUS_ONLINE = 'online';
/** A connection that lasted this long resets the reconnect backoff. */
const STABLE_CONNECTION_MS = 10_000;
export const STATUS_OFFLINE = 'offline';

/** `presence-bridge_` and a suffix stable for this host and base topic, so a persistent session resumes. */
export function defaultClientId(baseTopic: string): string {
  const suffix = createHash('sha256').update(`${hostname()}\u0000${baseTopic}`).digest('hex').slice(0, 10);
  return `presence-bridge_${suffix}`;
}

/** Which shard of a fleet a connection serves (issue 19); a lone instance is shard 0 of 1. */
export interface ShardOfFleet {
  readonly index: number;
  readonly count: number;
}

/**
 * The retained online/offline topic and last will: `<base>/status` for a lone instance, and
 * `<base>/status/shard-<I>-of-<N>` for a shard of N > 1, so one shard's will never marks its
 * siblings offline and a live shard's `online` never hides a dead one (`<base>/status/#` sees all).
 */
export function statusTopic(config: Pick<MqttConfig, 'baseTopic'>, shard?: ShardOfFleet): string {
  const topic = `${config.baseTopic}/status`;
  return shard !== undefined && shard.count > 1 ? `${topic}/shard-${shard.index}-of-${shard.count}` : topic;
}

/** The broker URL with any credentials in it (password, ws(s) query tokens) masked, for log lines. */
export function safeUrl(url: string): string {
  return maskUrl(url);
}

/**
 * One MQTT client for the bridge. A persistent session (`clean: false`) with QoS 1 subscriptions,
 * so button presses sent during a short outage are delivered on reconnect; reconnects itself with
 * exponential backoff and resubscribes whenever the broker has no session for it (first start,
 * broker restarted without persistence). A retained last will marks the bridge `offline`.
 * Errors are logged; nothing is thrown out of an event handler.
 */
export class MqttConnection {
  private client: MqttClient | undefined;
  private filters: string[] = [];
  /** Filters dropped while running, to unsubscribe from (the broker's session may still hold them). */
  private readonly stale = new Set<string>();
  /** The subscriptions changed while not connected: the next connection subscribes afresh. */
  private resync = false;
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly connectHandlers: ConnectHandler[] = [];
  private reconnectTimer: TimerHandle | undefined;
  private failures = 0;
  private firstConnectDone = false;
  private stopping = false;
  private wasConnected = false;
  private connectCount = 0;
  private connectedAt: number | undefined;
  readonly statusTopic: string;
  private readonly clock: Clock;

  constructor(private readonly options: MqttConnectionOptions) {
    this.statusTopic = statusTopic(options.config, options.shard);
    this.clock = options.clock ?? systemClock;
  }

  /** Filters to subscribe to (QoS 1); set before `start`. */
  setSubscriptions(filters: readonly string[]): void {
    this.filters = [...filters];
  }

  /**
   * Changes the subscriptions of a running connection (a fleet's joined and left users, issue 19):
   * subscribes to the new filters and unsubscribes from the old ones now when connected, else at
   * the next connection, even one that resumes the broker's session (which still holds the old set).
   */
  async updateSubscriptions(filters: readonly string[]): Promise<void> {
    const next = new Set(filters);
    const before = new Set(this.filters);
    for (const f of before) if (!next.has(f)) this.stale.add(f);
    for (const f of next) this.stale.delete(f);
    const added = [...next].filter((f) => !before.has(f));
    this.filters = [...next];
    const client = this.client;
    if (!client?.connected) {
      if (added.length > 0 || this.stale.size > 0) this.resync = true;
      return;
    }
    await this.sync(client, added);
  }

  /** Subscribes to `filters` and unsubscribes from the stale ones; on failure the next connection tries again. */
  private async sync(client: MqttClient, filters: readonly string[]): Promise<boolean> {
    const stale = [...this.stale];
    try {
      if (filters.length > 0) {
        const grants: ISubscriptionGrant[] = await client.subscribeAsync([...filters], { qos: 1 });
        for (const grant of grants) {
          if (grant.qos === 128) this.options.logger.error(`the broker refused the subscription to ${grant.topic}`);
        }
      }
      if (stale.length > 0) await client.unsubscribeAsync(stale);
      for (const f of stale) this.stale.delete(f);
      return true;
    } catch (error) {
      this.resync = true;
      this.options.logger.error(`subscribing failed: ${errorMessage(error)}`);
      return false;
    }
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onConnect(handler: ConnectHandler): void {
    this.connectHandlers.push(handler);
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Number of completed (re)connections, each with subscriptions in place. */
  get connections(): number {
    return this.connectCount;
  }

  /** Starts connecting and returns; the connection comes up (and comes back) in the background. */
  start(): Promise<void> {
    const { config, logger } = this.options;
    const publishOnly = this.options.publishOnly;
    const clientOptions: IClientOptions = {
      clientId: `${config.clientId ?? defaultClientId(config.baseTopic)}${publishOnly?.clientIdSuffix ?? ''}`,
      protocolVersion: config.protocolVersion,
      clean: publishOnly !== undefined,
      reconnectPeriod: 0,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      keepalive: this.options.keepaliveSeconds ?? 30,
      resubscribe: false,
      will: { topic: this.statusTopic, payload: Buffer.from(STATUS_OFFLINE), qos: 1, retain: true },
    };
    if (publishOnly) delete clientOptions.will;
    if (config.protocolVersion === 5) {
      // the publish-only connection is a clean session: nothing to keep for it
      clientOptions.properties = publishOnly ? {} : { sessionExpiryInterval: 24 * 3600 };
      if (this.options.maxPacketBytes !== undefined) clientOptions.properties.maximumPacketSize = this.options.maxPacketBytes;
    }
    if (config.username !== undefined) clientOptions.username = config.username;
    if (config.password !== undefined) clientOptions.password = config.password;
    try {
      if (config.ca) clientOptions.ca = readFileSync(config.ca);
      if (config.cert) clientOptions.cert = readFileSync(config.cert);
      if (config.key) clientOptions.key = readFileSync(config.key);
    } catch (error) {
      // not logged here: the bridge logs a feature's failed start, once, with the feature's name
      return Promise.reject(new Error(`cannot read a TLS file of the mqtt block: ${errorMessage(error)}`));
    }

    this.stopping = false;
    const warning = credentialWarning(config);
    if (warning !== undefined && !publishOnly) logger.warn(warning);
    logger.info(`connecting to ${safeUrl(config.url)} as ${clientOptions.clientId} (MQTT ${config.protocolVersion === 5 ? '5' : '3.1.1'})`);
    const client = mqtt.connect(config.url, clientOptions);
    this.client = client;
    client.on('connect', (connack) => this.guard('connect', () => this.handleConnect(client, connack.sessionPresent === true)));
    client.on('message', (topic, payload, packet) => {
      for (const handler of this.messageHandlers) this.guard('message', () => handler(topic, payload, packet.retain === true));
    });
    client.on('error', (error) => this.guard('error', () => logger.warn(`broker connection error: ${errorMessage(error)}`)));
    client.on('close', () => this.guard('close', () => this.handleClose(client)));
    return Promise.resolve();
  }

  /**
   * Publishes `offline` (retained) and disconnects. Bounded: a broker that does not answer within
   * `stopTimeoutMs` is cut off, so stopping never hangs.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const limit = this.options.stopTimeoutMs ?? 3000;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), limit);
    });
    try {
      const graceful = async (): Promise<void> => {
        if (client.connected && !this.options.publishOnly) await this.publishWith(client, this.statusTopic, STATUS_OFFLINE, { retain: true });
        await client.endAsync(!client.connected);
      };
      const result = await Promise.race([graceful(), timeout]);
      if (result === 'timeout') {
        this.options.logger.warn(`the broker did not answer within ${limit} ms; closing the connection`);
        client.end(true);
      }
    } catch (error) {
      this.options.logger.warn(`closing the broker connection failed: ${errorMessage(error)}`);
      client.end(true);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /** QoS 1 publish; resolves false (and logs) instead of throwing when it fails. */
  publish(topic: string, payload: string, options: { retain?: boolean } = {}): Promise<boolean> {
    const client = this.client;
    if (!client) return Promise.resolve(false);
    return this.publishWith(client, topic, payload, options);
  }

  private async publishWith(client: MqttClient, topic: string, payload: string, options: { retain?: boolean }): Promise<boolean> {
    const publishOptions: IClientPublishOptions = { qos: 1, retain: options.retain === true };
    try {
      await client.publishAsync(topic, payload, publishOptions);
      return true;
    } catch (error) {
      this.options.logger.warn(`publishing to ${topic} failed: ${errorMessage(error)}`);
      return false;
    }
  }

  private handleConnect(client: MqttClient, sessionPresent: boolean): void {
    this.connectedAt = this.clock.now();
    const first = !this.firstConnectDone;
    this.firstConnectDone = true;
    this.wasConnected = true;
    this.options.logger.info(`connected to the broker${sessionPresent ? ' (session resumed)' : ''}`);
    void this.afterConnect(client, first, sessionPresent);
  }

  private async afterConnect(client: MqttClient, first: boolean, sessionPresent: boolean): Promise<void> {
    // The first connection of this process always subscribes (the config may have changed since
    // the stored session was made); later ones only when the broker lost the session.
    if (first || !sessionPresent || this.resync) {
      this.resync = false;
      if (!(await this.sync(client, this.filters))) return;
    }
    if (this.client !== client) return;
    if (!this.options.publishOnly) await this.publishWith(client, this.statusTopic, STATUS_ONLINE, { retain: true });
    this.connectCount++;
    for (const handler of this.connectHandlers) this.guard('connect handler', () => handler({ first, sessionPresent }));
  }

  private handleClose(client: MqttClient): void {
    if (this.stopping || this.client !== client) return;
    if (this.wasConnected) {
      // Backoff starts over only after a connection that lasted: a broker that accepts and drops
      // at once (another client with the same client id, an ACL kick) must not be hammered.
      const lasted = this.clock.now() - (this.connectedAt ?? 0);
      if (lasted >= STABLE_CONNECTION_MS) this.failures = 0;
      this.options.logger.warn(
        lasted < STABLE_CONNECTION_MS
          ? 'lost the broker connection right after connecting (is another client using the same client id?); reconnecting'
          : 'lost the broker connection; reconnecting',
      );
    }
    this.wasConnected = false;
    if (this.reconnectTimer) return;
    const min = this.options.reconnectMinMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 60_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 16));
    this.failures++;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopping || this.client !== client) return;
      this.guard('reconnect', () => client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore }));
    }, delay);
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.options.logger.error(`MQTT ${what} handler failed: ${errorMessage(error)}`);
    }
  }
}
