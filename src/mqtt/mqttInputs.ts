import type { MqttInputConfig } from './configSchema.js';
import type { SignalSink } from '../bridgeTypes.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import type { LogLimiter } from '../shared/logLimiter.js';
import { checkPayload, excerpt } from '../shared/payloadGuard.js';
import { printable } from '../shared/printable.js';
import { reduceFilters, topicFilterProblem, topicMatches } from './topicFilter.js';

/**
 * MQTT inputs: each message on an input's topic becomes one Signal for the bridge, whose mapping
 * decides what it means. A retained message delivered at subscribe time is the device's current
 * state and is delivered like any other. An empty payload (how a retained value is deleted) is
 * not a device value and is ignored.
 */
export interface MqttInputsOptions {
  readonly inputs: readonly MqttInputConfig[];
  readonly sink: SignalSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Rate limit for dropped-message warnings. */
  readonly dropLog: LogLimiter;
  readonly maxPayloadBytes?: number;
  /** Rate limit for debug lines that quote payloads; without it they are not written. */
  readonly debugLog?: LogLimiter;
}

export class MqttInputs {
  private readonly inputs: MqttInputConfig[];
  /** Inputs on a plain topic by that topic, and inputs on a wildcard filter, each with its config order. */
  private readonly exact = new Map<string, { input: MqttInputConfig; order: number }[]>();
  private readonly wildcard: { input: MqttInputConfig; order: number }[] = [];

  private readonly sink: SignalSink;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly dropLog: LogLimiter;
  private readonly maxPayloadBytes: number | undefined;
  private readonly debugLog: LogLimiter | undefined;

  constructor(options: MqttInputsOptions) {
    const { inputs, logger } = options;
    this.sink = options.sink;
    this.clock = options.clock;
    this.logger = logger;
    this.dropLog = options.dropLog;
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.debugLog = options.debugLog;
    this.inputs = inputs.filter((input) => {
      const problem = topicFilterProblem(input.topic);
      if (problem) logger.error(`input "${input.name}": topic "${input.topic}" is not a valid MQTT topic filter (${problem}); it is ignored`);
      return !problem;
    });
    // A message is matched against the inputs of its own topic and the wildcard ones only, not
    // against every input: with thousands of inputs a linear scan per message caps the rate.
    this.inputs.forEach((input, order) => {
      if (input.topic.includes('+') || input.topic.includes('#')) {
        this.wildcard.push({ input, order });
      } else {
        const list = this.exact.get(input.topic) ?? [];
        list.push({ input, order });
        this.exact.set(input.topic, list);
      }
    });
  }

  /** The inputs whose filter matches `topic`, in config order. */
  private targetsOf(topic: string): MqttInputConfig[] {
    const exact = this.exact.get(topic) ?? [];
    const wild = this.wildcard.filter((w) => topicMatches(w.input.topic, topic));
    if (wild.length === 0) return exact.map((e) => e.input);
    return [...exact, ...wild].sort((a, b) => a.order - b.order).map((e) => e.input);
  }

  /** The filters to subscribe to: one per distinct topic, none covered by another. */
  filters(): string[] {
    return reduceFilters(this.inputs.map((i) => i.topic));
  }

  /** Delivers the message to every input whose topic matches; false when none does. */
  handle(topic: string, payload: Uint8Array, retained: boolean): boolean {
    const targets = this.targetsOf(topic);
    if (targets.length === 0) return false;
    if (payload.byteLength === 0) {
      this.debugLog?.warn(topic, `empty payload on ${printable(topic)} ignored`);
      return true;
    }
    const checked = checkPayload(payload, this.maxPayloadBytes);
    if (!checked.ok) {
      this.sink.dropped?.({ source: 'mqtt', input: targets[0]?.name ?? null, reason: checked.code });
      this.dropLog.warn(topic, `dropped a message on ${printable(topic)} for input "${targets[0]?.name ?? ''}": ${checked.reason}`);
      return true;
    }
    const at = this.clock.now();
    for (const input of targets) {
      if (retained) this.debugLog?.warn(topic, `input "${input.name}": retained value "${printable(excerpt(checked.text))}" on ${printable(topic)} taken as the current state`);
      try {
        this.sink.signal({ input: input.name, value: checked.text, at });
      } catch (error) {
        this.dropLog.warn(topic, `input "${input.name}": the signal from ${printable(topic)} failed: ${errorMessage(error)}`);
      }
    }
    return true;
  }
}
