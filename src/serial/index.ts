import type { FeatureBridge, FeatureDeps, FeatureFactory, Startable } from '../bridgeTypes.js';
import type { PresenceBridgeConfig, SerialInputConfig, SerialOutputConfig } from '../config/schema.js';
import { prefixedLogger, type Logger } from '../logger.js';
import { BusyLightOutput } from './busyLightOutput.js';
import { SerialInputs } from './serialInputs.js';
import { SerialPortLink, type ReconnectDelay } from './serialPortLink.js';

export { LineDecoder, DEFAULT_MAX_LINE_BYTES } from './lineDecoder.js';
export { SerialPortLink, serialReconnectDelay } from './serialPortLink.js';
export { BusyLightOutput, ShownAvailability, templateFor } from './busyLightOutput.js';
export { SerialInputs } from './serialInputs.js';

export interface SerialFeatureOptions {
  /** Backoff before reopen attempt `attempt`; default serialReconnectDelay (0.5 s doubling to 10 s). */
  readonly reconnectDelay?: ReconnectDelay;
  /** Longest accepted line in bytes; default DEFAULT_MAX_LINE_BYTES. */
  readonly maxLineBytes?: number;
}

interface PortUse {
  readonly path: string;
  readonly baudRate: number;
  readonly inputs: SerialInputConfig[];
  readonly outputs: SerialOutputConfig[];
}

/** Serial inputs and busy lights, one open port per path however many entries use it. */
class SerialFeature implements Startable {
  private readonly links: SerialPortLink[] = [];
  private readonly parts: { stop(): void }[] = [];
  private readonly logger: Logger;

  constructor(
    private readonly ports: readonly PortUse[],
    private readonly users: readonly string[],
    private readonly bridge: FeatureBridge,
    private readonly deps: FeatureDeps,
    private readonly options: SerialFeatureOptions,
  ) {
    this.logger = prefixedLogger(deps.logger, '[serial]');
  }

  start(): Promise<void> {
    for (const use of this.ports) {
      const link = new SerialPortLink({
        path: use.path,
        baudRate: use.baudRate,
        clock: this.deps.clock,
        logger: this.logger,
        reconnectDelay: this.options.reconnectDelay,
      });
      this.links.push(link);
      if (use.inputs.length > 0) {
        const inputs = new SerialInputs({
          link,
          inputs: use.inputs,
          sink: this.bridge,
          clock: this.deps.clock,
          logger: this.logger,
          maxLineBytes: this.options.maxLineBytes,
        });
        inputs.start();
        this.parts.push(inputs);
      }
      for (const output of use.outputs) {
        const userKey = output.user ?? (this.users.length === 1 ? this.users[0] : undefined);
        if (userKey === undefined || !this.users.includes(userKey)) {
          this.logger.error(`output "${output.name}": no such user ${output.user ?? '(none given, and several users are configured)'}; output disabled`);
          continue;
        }
        const light = new BusyLightOutput({ link, output, userKey, bridge: this.bridge, logger: this.logger });
        light.start();
        this.parts.push(light);
      }
      // Opening happens in the background: a missing device must not hold up the bridge.
      link.start();
    }
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    for (const part of this.parts.splice(0)) part.stop();
    await Promise.all(this.links.splice(0).map((link) => link.stop()));
  }
}

/** Groups serial inputs and outputs by port path. */
export function serialPortUses(config: PresenceBridgeConfig, logger: Logger): PortUse[] {
  const byPath = new Map<string, PortUse>();
  const use = (path: string, baudRate: number, name: string): PortUse => {
    let entry = byPath.get(path);
    if (!entry) {
      entry = { path, baudRate, inputs: [], outputs: [] };
      byPath.set(path, entry);
    } else if (entry.baudRate !== baudRate) {
      logger.warn(`"${name}" asks for ${baudRate} baud on ${path}, which is already opened at ${entry.baudRate}; using ${entry.baudRate}`);
    }
    return entry;
  };
  for (const input of config.inputs) {
    if (input.type === 'serial') use(input.path, input.baudRate, input.name).inputs.push(input);
  }
  for (const output of config.outputs) {
    if (output.type === 'serial') use(output.path, output.baudRate, output.name).outputs.push(output);
  }
  return [...byPath.values()];
}

/** The serial feature with explicit options (backoff, line limit). */
export function createSerialFeatureWith(options: SerialFeatureOptions = {}): FeatureFactory {
  return (config, bridge, deps) => {
    const ports = serialPortUses(config, prefixedLogger(deps.logger, '[serial]'));
    if (ports.length === 0) return null;
    return new SerialFeature(
      ports,
      config.users.map((u) => u.key),
      bridge,
      deps,
      options,
    );
  };
}

/** Serial inputs (`type: "serial"`) and serial busy lights (`outputs`); null when none is configured. */
export const createSerialFeature: FeatureFactory = createSerialFeatureWith();
