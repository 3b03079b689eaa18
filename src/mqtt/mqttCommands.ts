import type { BridgeControl } from '../feature.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { GraphError } from '../graph/types.js';
import type { Clock } from '../shared/clock.js';
import { parsePreferCommand, parseSetCommand } from './commandPayload.js';
import type { PreferCommand, SetCommand } from './commandPayload.js';
import { CommandGate } from './commandGate.js';
import type { CommandGateOptions } from './commandGate.js';
import type { LogLimiter } from '../shared/logLimiter.js';
import { printable } from '../shared/printable.js';
import { checkPayload, excerpt } from '../shared/payloadGuard.js';
import { userTopics } from './stateTopics.js';

/** Name of the built-in input the set topic drives; it has its own place in the arbiter. */
export const COMMAND_INPUT = 'mqtt-command';

export type Publish = (topic: string, payload: string, options?: { retain?: boolean }) => Promise<boolean>;

/** Which command topics are on (config `mqtt.commandTopics` and `mqtt.preferTopic`), and the per-user command rate. */
export interface CommandTopicOptions {
  readonly set: boolean;
  readonly prefer: boolean;
  readonly gate?: CommandGateOptions;
}

/**
 * `<base>/<user>/set` and `<base>/<user>/prefer`. Anything that cannot be acted on (unknown user,
 * a pair Graph would refuse, malformed JSON, bytes that are not text) is logged and answered on
 * `<base>/<user>/error`, and nothing else happens. Answers share the drop log's rate limit, so a
 * flood of bad commands is not echoed back in full.
 *
 * A command acts only when it is sent: a retained one (planted once, handed over again at every
 * subscription) is ignored with a rate-limited note. Commands of one user and topic pass a
 * {@link CommandGate}: one at a time, a bounded number per window, the latest waiting one wins.
 */
export interface MqttCommandsOptions {
  readonly baseTopic: string;
  readonly userKeys: readonly string[];
  readonly bridge: Pick<BridgeControl, 'setIntent' | 'prefer'>;
  /** Answers on `<base>/<user>/error`. */
  readonly publish: Publish;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Rate limit for dropped-command warnings and answers. */
  readonly dropLog: LogLimiter;
  /** Which command topics exist; `set` only by default. */
  readonly topics?: CommandTopicOptions;
}

export class MqttCommands {
  private readonly users: Set<string>;
  private readonly prefix: string;
  private readonly gate: CommandGate;

  private readonly baseTopic: string;
  private readonly bridge: Pick<BridgeControl, 'setIntent' | 'prefer'>;
  private readonly publish: Publish;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly dropLog: LogLimiter;
  private readonly topics: CommandTopicOptions;

  constructor(options: MqttCommandsOptions) {
    this.baseTopic = options.baseTopic;
    this.bridge = options.bridge;
    this.publish = options.publish;
    this.clock = options.clock;
    this.logger = options.logger;
    this.dropLog = options.dropLog;
    this.topics = options.topics ?? { set: true, prefer: false };
    this.users = new Set(options.userKeys);
    this.prefix = `${this.baseTopic}/`;
    this.gate = new CommandGate(this.clock, this.logger, this.topics.gate);
  }

  filters(): string[] {
    const filters: string[] = [];
    if (this.topics.set) filters.push(`${this.baseTopic}/+/set`);
    if (this.topics.set && this.topics.prefer) filters.push(`${this.baseTopic}/+/prefer`);
    return filters;
  }

  /** The users whose command topics are served from now on (a fleet's joins and leaves, issue 19). */
  setUserKeys(keys: readonly string[]): void {
    this.users.clear();
    for (const key of keys) this.users.add(key);
  }

  /** Drops the commands waiting for their turn. */
  close(): void {
    this.gate.close();
  }

  /**
   * Acts on a command message; false when the topic is not a command topic. A command topic that
   * is turned off is still recognised (a persistent session may keep an old subscription) and refused.
   */
  handle(topic: string, payload: Uint8Array, retained = false): boolean {
    if (!topic.startsWith(this.prefix)) return false;
    const levels = topic.slice(this.prefix.length).split('/');
    if (levels.length !== 2) return false;
    const [userKey = '', verb] = levels;
    if (verb !== 'set' && verb !== 'prefer') return false;

    if (retained) {
      if (payload.byteLength > 0) {
        this.dropLog.warn(
          `${topic} (retained)`,
          `ignored a retained command on ${printable(topic)}: commands act only when sent; delete it with mosquitto_pub -r -n -t '${printable(topic)}'`,
        );
      }
      return true;
    }
    if (!this.topics.set) return this.reject(topic, userKey, 'command topics are turned off (mqtt.commandTopics)', '');
    if (verb === 'prefer' && !this.topics.prefer) return this.reject(topic, userKey, 'the prefer topic is turned off (mqtt.preferTopic)', '');
    const checked = checkPayload(payload);
    if (!checked.ok) return this.reject(topic, userKey, checked.reason, '');
    if (!this.users.has(userKey)) return this.reject(topic, userKey, `unknown user "${printable(userKey)}"`, checked.text);
    // Parsed first, so a refused command is answered at once and costs no turn at the gate.
    let act: () => Promise<void> | void;
    if (verb === 'set') {
      const parsed = parseSetCommand(checked.text);
      if (!parsed.ok) return this.reject(topic, userKey, parsed.error, checked.text);
      const receivedAt = this.clock.now();
      act = () => this.set(userKey, parsed.command, receivedAt);
    } else {
      const parsed = parsePreferCommand(checked.text);
      if (!parsed.ok) return this.reject(topic, userKey, parsed.error, checked.text);
      act = () => this.prefer(topic, userKey, parsed.command, checked.text);
    }
    const offered = this.gate.offer(`${userKey}/${verb}`, act);
    if (offered === 'throttled') {
      this.dropLog.warn(
        topic,
        `commands on ${printable(topic)} come faster than the bridge applies them; each waiting one is replaced by the next, and the latest is applied when its turn comes`,
      );
    }
    return true;
  }

  private set(userKey: string, command: SetCommand, at: number): void {
    if (command.kind === 'clear') {
      this.logger.info(`${userKey}: clear (command topic)`);
      this.bridge.setIntent(userKey, COMMAND_INPUT, { kind: 'clear', at });
      return;
    }
    const until = command.durationMs === undefined ? undefined : at + command.durationMs;
    this.logger.info(`${userKey}: ${command.pair.availability}/${command.pair.activity}${until === undefined ? '' : ` until ${new Date(until).toISOString()}`} (command topic)`);
    this.bridge.setIntent(userKey, COMMAND_INPUT, until === undefined ? { kind: 'set', pair: command.pair, at } : { kind: 'set', pair: command.pair, at, until });
  }

  /** Resolves once Graph answered (the gate holds the user's next prefer until then); never rejects. */
  private prefer(topic: string, userKey: string, command: PreferCommand, text: string): Promise<void> {
    const call =
      command.kind === 'clear'
        ? this.bridge.prefer(userKey, null)
        : this.bridge.prefer(userKey, command.presence, command.expiration);
    return call.catch((error: unknown) => {
      const message = error instanceof GraphError ? `Graph refused the preferred presence: ${error.message} (${error.hint})` : `the preferred presence was not set: ${errorMessage(error)}`;
      this.reject(topic, userKey, message, text);
    });
  }

  /** Logs and answers on the error topic, both under the same rate limit (no amplification of a flood). */
  private reject(topic: string, userKey: string, error: string, text: string): true {
    if (!this.dropLog.warn(topic, `command on ${printable(topic)} rejected: ${error}`)) return true;
    const answer = JSON.stringify({ topic, error, payload: excerpt(text, 200), at: new Date(this.clock.now()).toISOString() });
    void this.publish(userTopics(this.baseTopic, userKey).error, answer);
    return true;
  }
}
