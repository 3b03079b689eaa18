import type { FeatureDeps, FeatureFactory, ServedChangeEvent, Startable, UserState } from '../bridgeTypes.js';
import type { PresenceBridgeConfig, UserConfig } from '../config/schema.js';
import type { FeatureBridge } from '../feature.js';
import type { MqttConfig, MqttInputConfig } from './configSchema.js';
import type { Logger } from '../logger.js';
import { errorMessage, prefixedLogger } from '../logger.js';
import { discoveryMessages } from './homeAssistant.js';
import { LogLimiter } from '../shared/logLimiter.js';
import type { LogLimiterOptions } from '../shared/logLimiter.js';
import type { CommandGateOptions } from './commandGate.js';
import { MqttCommands } from './mqttCommands.js';
import { MqttConnection, packetLimitFor } from './mqttConnection.js';
import { MAX_PAYLOAD_BYTES } from '../shared/payloadGuard.js';
import { printable } from '../shared/printable.js';
import type { MqttConnectionOptions, ShardOfFleet } from './mqttConnection.js';
import { MqttInputs, type MqttInputsOptions } from './mqttInputs.js';
import { RetainedPublisher } from './retainedPublisher.js';
import { presencePayload, statePayload, userTopics } from './stateTopics.js';
import { PACKAGE_VERSION } from './version.js';

export { COMMAND_INPUT } from './mqttCommands.js';
export { MqttConnection, defaultClientId } from './mqttConnection.js';

/** Tuning that is not user config (reconnect backoff, log rate limit, payload size limit). */
export interface MqttFeatureOptions {
  /** `clock` times reconnects and the stop bound (real time by default, see {@link MqttConnectionOptions.clock}). */
  readonly connection?: Pick<MqttConnectionOptions, 'clock' | 'reconnectMinMs' | 'reconnectMaxMs' | 'connectTimeoutMs' | 'keepaliveSeconds' | 'stopTimeoutMs'>;
  readonly dropLog?: LogLimiterOptions;
  readonly maxPayloadBytes?: number;
  /** Per user and command topic: commands applied per window (latest wins past it). */
  readonly commandGate?: CommandGateOptions;
  /** The fleet shard this bridge is (FeatureContext.instance.shard): its own status topic. */
  readonly shard?: ShardOfFleet;
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
  private inputs: MqttInputs;
  /** What {@link inputs} was built from; rebuilt when the served inputs change (issue 19). */
  private mqttInputs: MqttInputConfig[];
  private readonly inputOptions: Omit<MqttInputsOptions, 'inputs'>;
  /** The users served now: discovery announces them (a fleet's joins and leaves change it). */
  private users: readonly UserConfig[];
  private unsubscribeServed: (() => void) | undefined;
  private readonly commands: MqttCommands;
  private readonly mqtt: MqttConfig;
  private readonly shard: ShardOfFleet | undefined;
  private readonly dropLog: LogLimiter;
  /** Debug lines that quote topics or payloads: a few per topic a minute, each cut short. */
  private readonly debugLog: LogLimiter;
  private readonly retained: RetainedPublisher;
  private unsubscribeState: (() => void) | undefined;
  /** True once the input connection subscribed (its connect handlers run after the subscription). */
  private subscribed = false;

  constructor(
    private readonly config: PresenceBridgeConfig & { mqtt: MqttConfig },
    private readonly bridge: FeatureBridge,
    deps: FeatureDeps,
    options: MqttFeatureOptions = {},
  ) {
    this.mqtt = config.mqtt;
    this.shard = options.shard;
    this.logger = prefixedLogger(deps.logger, '[mqtt]');
    this.dropLog = new LogLimiter(this.logger, deps.clock, options.dropLog);
    this.debugLog = new LogLimiter(this.logger, deps.clock, { level: 'debug', perKey: 3, total: 20, noun: 'debug line(s)' });
    this.connection = new MqttConnection({
      config: this.mqtt,
      logger: this.logger,
      maxPacketBytes: packetLimitFor(options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES),
      ...(options.shard ? { shard: options.shard } : {}),
      ...options.connection,
    });
    this.stateConnection = new MqttConnection({
      config: this.mqtt,
      logger: prefixedLogger(this.logger, '[state topics]'),
      ...options.connection,
      publishOnly: { clientIdSuffix: STATE_CLIENT_ID_SUFFIX },
    });
    const stateConnection = this.stateConnection;
    this.retained = new RetainedPublisher({
      publish: (topic, payload) => stateConnection.publish(topic, payload, { retain: true }),
      get connected() {
        return stateConnection.connected;
      },
    });
    this.mqttInputs = config.inputs.filter((i): i is MqttInputConfig => i.type === 'mqtt');
    this.users = config.users;
    this.inputOptions = { sink: bridge, clock: deps.clock, logger: this.logger, dropLog: this.dropLog, maxPayloadBytes: options.maxPayloadBytes, debugLog: this.debugLog };
    this.inputs = new MqttInputs({ inputs: this.mqttInputs, ...this.inputOptions });
    this.commands = new MqttCommands({
      baseTopic: this.mqtt.baseTopic,
      userKeys: config.users.map((u) => u.key),
      bridge,
      publish: (topic, payload, o) => this.connection.publish(topic, payload, o),
      clock: deps.clock,
      logger: this.logger,
      dropLog: this.dropLog,
      topics: { set: this.mqtt.commandTopics, prefer: this.mqtt.preferTopic, gate: options.commandGate },
    });
    deps.readiness?.add('mqtt', () => (!this.connection.connected ? 'not connected to the broker' : this.subscribed ? null : 'not subscribed yet'));
  }

  async start(): Promise<void> {
    this.connection.setSubscriptions([...this.commands.filters(), ...this.inputs.filters()]);
    this.connection.onMessage((topic, payload, retained) => this.onMessage(topic, payload, retained));
    this.connection.onConnect(() => {
      this.subscribed = true;
    });
    this.stateConnection.onConnect(() => this.publishAll());
    this.unsubscribeState = this.bridge.events.on('state', (state) => this.publishState(state));
    this.unsubscribeServed = this.bridge.events.on('served', (change) => this.follow(change));
    await this.stateConnection.start();
    await this.connection.start();
  }

  async stop(): Promise<void> {
    this.unsubscribeState?.();
    this.unsubscribeState = undefined;
    this.unsubscribeServed?.();
    this.unsubscribeServed = undefined;
    this.commands.close();
    // The final state goes out before `offline`, even where an older publish is still awaiting its
    // PUBACK: the state connection stops first, and a graceful stop waits for its publishes.
    this.retained.stop();
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
    this.retained.reset();
    if (this.mqtt.homeAssistant) {
      for (const message of discoveryMessages(this.mqtt, this.users, PACKAGE_VERSION, this.shard)) this.retained.want(message.topic, message.payload);
    }
    for (const state of this.bridge.states()) this.publishState(state);
  }

  /**
   * The core serves other users or inputs now (a fleet refresh, issue 19): inputs and subscriptions
   * follow without a reconnect, command topics take the new users, and discovery announces the
   * joiners and deletes the leavers' entities (an empty retained message).
   */
  private follow(change: ServedChangeEvent): void {
    const removed = new Set(change.removedInputs.map((i) => i.name));
    const added = change.addedInputs.filter((i): i is MqttInputConfig => i.type === 'mqtt');
    if (added.length > 0 || change.removedInputs.some((i) => i.type === 'mqtt')) {
      this.mqttInputs = [...this.mqttInputs.filter((i) => !removed.has(i.name)), ...added];
      this.inputs = new MqttInputs({ inputs: this.mqttInputs, ...this.inputOptions });
      this.connection.updateSubscriptions([...this.commands.filters(), ...this.inputs.filters()]).catch((error: unknown) => this.logger.error(`changing the subscriptions failed: ${errorMessage(error)}`));
    }
    const before = this.users;
    this.users = change.users;
    this.commands.setUserKeys(change.users.map((u) => u.key));
    if (!this.mqtt.homeAssistant) return;
    const now = new Set(change.users.map((u) => u.key));
    const was = new Set(before.map((u) => u.key));
    for (const message of discoveryMessages(this.mqtt, before.filter((u) => !now.has(u.key)), PACKAGE_VERSION, this.shard)) this.retained.want(message.topic, '');
    for (const message of discoveryMessages(this.mqtt, change.users.filter((u) => !was.has(u.key)), PACKAGE_VERSION, this.shard)) this.retained.want(message.topic, message.payload);
  }

  private publishState(state: UserState): void {
    const topics = userTopics(this.mqtt.baseTopic, state.userKey);
    this.retained.want(topics.state, statePayload(state));
    this.retained.want(topics.presence, presencePayload(state));
  }
}

/** The MQTT feature, or null when the config has no `mqtt` block. */
export const createMqttFeature: FeatureFactory = (config, bridge, deps) => {
  const mqtt = config.mqtt;
  if (!mqtt) return null;
  return new MqttFeature({ ...config, mqtt }, bridge, deps);
};
