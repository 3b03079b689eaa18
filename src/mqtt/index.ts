import type { FeatureBridge, FeatureDeps, FeatureFactory, Startable, UserState } from '../bridgeTypes.js';
import type { MqttConfig, MqttInputConfig, PresenceBridgeConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { errorMessage, prefixedLogger } from '../logger.js';
import { discoveryMessages } from './homeAssistant.js';
import { LogLimiter } from './logLimiter.js';
import type { LogLimiterOptions } from './logLimiter.js';
import type { CommandGateOptions } from './commandGate.js';
import { MqttCommands } from './mqttCommands.js';
import { MqttConnection, packetLimitFor } from './mqttConnection.js';
import { MAX_PAYLOAD_BYTES } from './payloadGuard.js';
import { printable } from './printable.js';
import type { MqttConnectionOptions } from './mqttConnection.js';
import { MqttInputs } from './mqttInputs.js';
import { presencePayload, statePayload, userTopics } from './stateTopics.js';
import { PACKAGE_VERSION } from './version.js';

export { COMMAND_INPUT } from './mqttCommands.js';
export { MqttConnection, defaultClientId } from './mqttConnection.js';

/** Tuning that is not user config (reconnect backoff, log rate limit, payload size limit). */
export interface MqttFeatureOptions {
  readonly connection?: Pick<MqttConnectionOptions, 'reconnectMinMs' | 'reconnectMaxMs' | 'connectTimeoutMs' | 'keepaliveSeconds' | 'stopTimeoutMs'>;
  readonly dropLog?: LogLimiterOptions;
  readonly maxPayloadBytes?: number;
  /** Per user and command topic: commands applied per window (latest wins past it). */
  readonly commandGate?: CommandGateOptions;
}

/** Appended to the client id of the connection that publishes the retained state topics. */
export const STATE_CLIENT_ID_SUFFIX = '-state';

/**
 * Everything MQTT for one bridge: inputs, the command topics and the bridge's status over one
 * connection; the retained state topics and Home Assistant discovery over a second one.
 *
 * Why two: Mosquitto (like most brokers) leaves Nagle's algorithm on by default, so a PUBACK it
 * sends for one of our QoS 1 publishes holds back the next message it has for the same socket
 * until our kernel's delayed ACK, up to ~40 ms later. On one connection, every state change
 * therefore delayed the next input; on their own socket, our publishes' acknowledgements never
 * share a socket with inputs (BENCHMARKS.md, bench/compare).
 */
export class MqttFeature implements Startable {
  readonly connection: MqttConnection;
  /** Publish-only: retained state, presence and discovery topics. */
  readonly stateConnection: MqttConnection;
  private readonly logger: Logger;
  private readonly inputs: MqttInputs;
  private readonly commands: MqttCommands;
  private readonly mqtt: MqttConfig;
  private readonly dropLog: LogLimiter;
  /** Debug lines that quote topics or payloads: a few per topic a minute, each cut short. */
  private readonly debugLog: LogLimiter;
  /** Last payload sent per retained topic, so an unchanged state is not republished. */
  private readonly sent = new Map<string, string>();
  /** Latest payload wanted per retained topic, not sent yet (latest wins). */
  private readonly wanted = new Map<string, string>();
  /** Topics with a publish awaiting the broker's PUBACK (at most one each), by a token of that publish. */
  private readonly inFlight = new Map<string, symbol>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private stopped = false;
  private unsubscribeState: (() => void) | undefined;

  constructor(
    private readonly config: PresenceBridgeConfig & { mqtt: MqttConfig },
    private readonly bridge: FeatureBridge,
    deps: FeatureDeps,
    options: MqttFeatureOptions = {},
  ) {
    this.mqtt = config.mqtt;
    this.logger = prefixedLogger(deps.logger, '[mqtt]');
    this.dropLog = new LogLimiter(this.logger, deps.clock, options.dropLog);
    this.debugLog = new LogLimiter(this.logger, deps.clock, { level: 'debug', perKey: 3, total: 20, noun: 'debug line(s)' });
    this.connection = new MqttConnection({
      config: this.mqtt,
      logger: this.logger,
      maxPacketBytes: packetLimitFor(options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES),
      ...options.connection,
    });
    this.stateConnection = new MqttConnection({
      config: this.mqtt,
      logger: prefixedLogger(this.logger, '[state topics]'),
      ...options.connection,
      publishOnly: { clientIdSuffix: STATE_CLIENT_ID_SUFFIX },
    });
    const mqttInputs = config.inputs.filter((i): i is MqttInputConfig => i.type === 'mqtt');
    this.inputs = new MqttInputs(mqttInputs, bridge, deps.clock, this.logger, this.dropLog, options.maxPayloadBytes, this.debugLog);
    const publish = (topic: string, payload: string, o?: { retain?: boolean }) => this.connection.publish(topic, payload, o);
    this.commands = new MqttCommands(this.mqtt.baseTopic, config.users.map((u) => u.key), bridge, publish, deps.clock, this.logger, this.dropLog, {
      set: this.mqtt.commandTopics,
      prefer: this.mqtt.preferTopic,
      gate: options.commandGate,
    });
  }

  async start(): Promise<void> {
    this.connection.setSubscriptions([...this.commands.filters(), ...this.inputs.filters()]);
    this.connection.onMessage((topic, payload, retained) => this.onMessage(topic, payload, retained));
    this.stateConnection.onConnect(() => this.publishAll());
    this.unsubscribeState = this.bridge.events.on('state', (state) => this.publishState(state));
    await this.stateConnection.start();
    await this.connection.start();
  }

  async stop(): Promise<void> {
    this.unsubscribeState?.();
    this.unsubscribeState = undefined;
    this.stopped = true;
    this.commands.close();
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    // The final state goes out before `offline`, even where an older publish is still awaiting its
    // PUBACK: the state connection stops first, and a graceful stop waits for its publishes.
    for (const [topic, payload] of this.wanted) this.send(topic, payload);
    this.wanted.clear();
    this.dropLog.flush();
    this.debugLog.flush();
    await this.stateConnection.stop();
    await this.connection.stop();
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    try {
      if (this.commands.handle(topic, payload, retained)) return;
      if (this.inputs.handle(topic, payload, retained)) return;
      this.debugLog.warn(topic, `message on ${printable(topic)} matches no input (left from an older config?)`);
    } catch (error) {
      this.dropLog.warn(topic, `message on ${printable(topic)} could not be handled: ${errorMessage(error)}`);
    }
  }

  /** After every (re)connection: the broker may have lost retained messages, so send them all again. */
  private publishAll(): void {
    this.sent.clear();
    this.wanted.clear();
    this.inFlight.clear(); // a publish of the previous connection must not hold back this one's
    if (this.mqtt.homeAssistant) {
      for (const message of discoveryMessages(this.mqtt, this.config.users, PACKAGE_VERSION)) this.publishRetained(message.topic, message.payload);
    }
    for (const state of this.bridge.states()) this.publishState(state);
  }

  private publishState(state: UserState): void {
    const topics = userTopics(this.mqtt.baseTopic, state.userKey);
    this.publishRetained(topics.state, statePayload(state));
    this.publishRetained(topics.presence, presencePayload(state));
  }

  /**
   * Coalesced: the latest payload per topic is kept and sent on a later turn of the event loop,
   * so a state change never publishes ahead of the Graph request that caused it, and a burst of
   * changes costs one publish per topic in flight instead of one each. The last wanted payload is
   * always the last one sent.
   */
  private publishRetained(topic: string, payload: string): void {
    if (this.stopped) return;
    if (this.sent.get(topic) === payload && !this.inFlight.has(topic)) {
      this.wanted.delete(topic); // back to what the broker holds
      return;
    }
    this.wanted.set(topic, payload);
    this.flushScheduled ??= setImmediate(() => {
      this.flushScheduled = undefined;
      this.flush();
    });
  }

  private flush(): void {
    for (const [topic, payload] of this.wanted) {
      if (this.inFlight.has(topic)) continue; // sent when the one in flight is answered
      this.wanted.delete(topic);
      this.send(topic, payload);
    }
  }

  private send(topic: string, payload: string): void {
    if (this.sent.get(topic) === payload) return;
    if (!this.stateConnection.connected) return; // sent in full on the next connection
    this.sent.set(topic, payload);
    const token = Symbol(topic);
    this.inFlight.set(topic, token);
    void this.stateConnection.publish(topic, payload, { retain: true }).then((ok) => {
      if (this.inFlight.get(topic) !== token) return; // a reconnection took over this topic
      this.inFlight.delete(topic);
      if (!ok && this.sent.get(topic) === payload) this.sent.delete(topic);
      const next = this.wanted.get(topic);
      if (!this.stopped && next !== undefined) {
        this.wanted.delete(topic);
        this.send(topic, next);
      }
    });
  }
}

/** The MQTT feature, or null when the config has no `mqtt` block. */
export const createMqttFeature: FeatureFactory = (config, bridge, deps) => {
  const mqtt = config.mqtt;
  if (!mqtt) return null;
  return new MqttFeature({ ...config, mqtt }, bridge, deps);
};
