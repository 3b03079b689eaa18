import type { Bridge } from '../bridgeTypes.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { GraphError } from '../graph/types.js';
import type { Clock } from '../session/clock.js';
import { parsePreferCommand, parseSetCommand } from './commandPayload.js';
import type { LogLimiter } from './logLimiter.js';
import { checkPayload, excerpt } from './payloadGuard.js';
import { userTopics } from './stateTopics.js';

/** Name of the built-in input the set topic drives; it has its own place in the arbiter. */
export const COMMAND_INPUT = 'mqtt-command';

export type Publish = (topic: string, payload: string, options?: { retain?: boolean }) => Promise<boolean>;

/**
 * `<base>/<user>/set` and `<base>/<user>/prefer`. Anything that cannot be acted on (unknown user,
 * a pair Graph would refuse, malformed JSON, bytes that are not text) is logged and answered on
 * `<base>/<user>/error`, and nothing else happens. Answers share the drop log's rate limit, so a
 * flood of bad commands is not echoed back in full.
 */
export class MqttCommands {
  private readonly users: Set<string>;
  private readonly prefix: string;

  constructor(
    private readonly baseTopic: string,
    userKeys: readonly string[],
    private readonly bridge: Bridge,
    private readonly publish: Publish,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly dropLog: LogLimiter,
  ) {
    this.users = new Set(userKeys);
    this.prefix = `${baseTopic}/`;
  }

  filters(): string[] {
    return [`${this.baseTopic}/+/set`, `${this.baseTopic}/+/prefer`];
  }

  /** Acts on a command message; false when the topic is not a command topic. */
  handle(topic: string, payload: Uint8Array): boolean {
    if (!topic.startsWith(this.prefix)) return false;
    const levels = topic.slice(this.prefix.length).split('/');
    if (levels.length !== 2) return false;
    const [userKey = '', verb] = levels;
    if (verb !== 'set' && verb !== 'prefer') return false;

    const checked = checkPayload(payload);
    if (!checked.ok) return this.reject(topic, userKey, checked.reason, '');
    if (!this.users.has(userKey)) return this.reject(topic, userKey, `unknown user "${userKey}"`, checked.text);
    if (verb === 'set') this.set(topic, userKey, checked.text);
    else this.prefer(topic, userKey, checked.text);
    return true;
  }

  private set(topic: string, userKey: string, text: string): void {
    const parsed = parseSetCommand(text);
    if (!parsed.ok) {
      this.reject(topic, userKey, parsed.error, text);
      return;
    }
    const at = this.clock.now();
    const command = parsed.command;
    if (command.kind === 'clear') {
      this.logger.info(`${userKey}: clear (command topic)`);
      this.bridge.setIntent(userKey, COMMAND_INPUT, { kind: 'clear', at });
      return;
    }
    const until = command.durationMs === undefined ? undefined : at + command.durationMs;
    this.logger.info(`${userKey}: ${command.pair.availability}/${command.pair.activity}${until === undefined ? '' : ` until ${new Date(until).toISOString()}`} (command topic)`);
    this.bridge.setIntent(userKey, COMMAND_INPUT, until === undefined ? { kind: 'set', pair: command.pair, at } : { kind: 'set', pair: command.pair, at, until });
  }

  private prefer(topic: string, userKey: string, text: string): void {
    const parsed = parsePreferCommand(text);
    if (!parsed.ok) {
      this.reject(topic, userKey, parsed.error, text);
      return;
    }
    const command = parsed.command;
    const call =
      command.kind === 'clear'
        ? this.bridge.prefer(userKey, null)
        : this.bridge.prefer(userKey, command.presence, command.expiration);
    call.catch((error: unknown) => {
      const message = error instanceof GraphError ? `${error.message} (${error.hint})` : errorMessage(error);
      this.reject(topic, userKey, `Graph refused the preferred presence: ${message}`, text);
    });
  }

  /** Logs and answers on the error topic, both under the same rate limit (no amplification of a flood). */
  private reject(topic: string, userKey: string, error: string, text: string): true {
    if (!this.dropLog.warn(topic, `command on ${topic} rejected: ${error}`)) return true;
    const answer = JSON.stringify({ topic, error, payload: excerpt(text, 200), at: new Date(this.clock.now()).toISOString() });
    void this.publish(userTopics(this.baseTopic, userKey).error, answer);
    return true;
  }
}
