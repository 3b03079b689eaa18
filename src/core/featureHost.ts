import type { BridgeEvents, Startable } from '../bridgeTypes.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { EventListeners } from '../events.js';
import type { BridgeControl, FeatureContext, FeatureDefinition, HttpClient, InstanceIdentity, PresenceGate, RouteRegistry } from '../feature.js';
import type { Logger } from '../logger.js';
import { errorMessage, prefixedLogger } from '../logger.js';
import type { Clock } from '../shared/clock.js';

export interface FeatureHostOptions {
  /** In start order; stopped in reverse. */
  readonly definitions: readonly FeatureDefinition[];
  readonly config: PresenceBridgeConfig;
  /** The bridge's logger; each feature gets it prefixed with its name (see FeatureDefinition.logPrefix). */
  readonly logger: Logger;
  readonly clock: Clock;
  readonly storagePath: string;
  readonly bridge: BridgeControl;
  readonly events: EventListeners<BridgeEvents>;
  readonly http: HttpClient;
  readonly routes: RouteRegistry;
  readonly instance: InstanceIdentity;
}

/** Input names the features the config uses deliver through `setIntent` (e.g. `mqtt-command`, `homekit`). */
export function reservedInputsOf(definitions: readonly FeatureDefinition[], config: PresenceBridgeConfig): Set<string> {
  const names = new Set<string>();
  for (const definition of definitions) {
    if (!definition.reservedInputs) continue;
    try {
      if (definition.select(config) !== null) for (const name of definition.reservedInputs) names.add(name);
    } catch {
      // a feature that cannot read its config is left out (the host logs it)
    }
  }
  return names;
}

interface Selected {
  readonly definition: FeatureDefinition;
  readonly slice: unknown;
}

/**
 * Runs the registered features: picks each one's slice of the config once, builds its runtime part
 * with a {@link FeatureContext}, starts them in order and stops them in reverse. The host, not the
 * feature, logs a feature that fails to build, start or stop (once, with its name); a feature
 * rejects and says why, and the others run on.
 */
export class FeatureHost {
  private readonly selected: readonly Selected[];
  private readonly running: { readonly name: string; readonly part: Startable }[] = [];

  constructor(private readonly options: FeatureHostOptions) {
    this.selected = options.definitions.flatMap((definition) => {
      try {
        const slice = definition.select(options.config);
        return slice === null ? [] : [{ definition, slice }];
      } catch (error) {
        options.logger.error(`feature "${definition.name}" could not read its part of the config: ${errorMessage(error)}; left out`);
        return [];
      }
    });
  }

  /** Every gate of the features in use, in registry order. */
  gates(): PresenceGate[] {
    const { clock, config } = this.options;
    return this.selected.flatMap(({ definition, slice }) => {
      if (!definition.gates) return [];
      try {
        return [...definition.gates(slice, { clock, config, logger: this.loggerFor(definition) })];
      } catch (error) {
        this.options.logger.error(`feature "${definition.name}": its gates could not be built: ${errorMessage(error)}; none applied`);
        return [];
      }
    });
  }

  /** Builds and starts each feature in order; one that fails is logged and the next still starts. */
  async start(): Promise<void> {
    for (const { definition, slice } of this.selected) {
      if (!definition.create) continue;
      let part: Startable;
      try {
        part = definition.create(slice, this.contextFor(definition));
      } catch (error) {
        this.options.logger.error(`feature "${definition.name}" failed to start: ${errorMessage(error)}`);
        continue;
      }
      // listed before it starts: stop() releases what a failed start opened
      this.running.push({ name: definition.name, part });
      try {
        await part.start();
      } catch (error) {
        this.options.logger.error(`feature "${definition.name}" failed to start: ${errorMessage(error)}`);
      }
    }
  }

  /** Stops every started feature, last first; a failure is logged and the rest still stop. */
  async stop(): Promise<void> {
    for (const { name, part } of this.running.splice(0).reverse()) {
      try {
        await part.stop();
      } catch (error) {
        this.options.logger.error(`feature "${name}" failed to stop: ${errorMessage(error)}`);
      }
    }
  }

  private loggerFor(definition: FeatureDefinition): Logger {
    const prefix = definition.logPrefix === undefined ? `[${definition.name}]` : definition.logPrefix;
    return prefix === null ? this.options.logger : prefixedLogger(this.options.logger, prefix);
  }

  private contextFor(definition: FeatureDefinition): FeatureContext {
    const { clock, storagePath, config, bridge, events, http, routes, instance } = this.options;
    return Object.freeze({ logger: this.loggerFor(definition), clock, storagePath, config, bridge, events, http, routes, instance });
  }
}
