import type { BridgeEvents, Startable } from '../bridgeTypes.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { EventListeners } from '../events.js';
import type { BridgeControl, FeatureContext, HttpClient, InstanceIdentity, PresenceGate, ReadinessRegistry, RegisteredFeature, RouteRegistry } from '../feature.js';
import type { Logger } from '../logger.js';
import { errorMessage, prefixedLogger } from '../logger.js';
import type { Clock } from '../shared/clock.js';

export interface FeatureHostOptions {
  /** In start order; stopped in reverse. */
  readonly definitions: readonly RegisteredFeature[];
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
  /** Where features say whether they are ready (`/readyz`). */
  readonly readiness: ReadinessRegistry;
}

/** Input names the features the config uses deliver through `setIntent` (e.g. `mqtt-command`, `homekit`). */
export function reservedInputsOf(definitions: readonly RegisteredFeature[], config: PresenceBridgeConfig): Set<string> {
  const names = new Set<string>();
  for (const definition of definitions) {
    if (!definition.reservedInputs) continue;
    try {
      if (definition.uses(config)) for (const name of definition.reservedInputs) names.add(name);
    } catch {
      // a feature that cannot read its config is left out (the host logs it)
    }
  }
  return names;
}

/**
 * Runs the registered features: picks the ones the config uses once, builds each runtime part
 * with a {@link FeatureContext}, starts them in order and stops them in reverse. The host, not the
 * feature, logs a feature that fails to build, start or stop (once, with its name); a feature
 * rejects and says why, and the others run on.
 */
export class FeatureHost {
  private readonly selected: readonly RegisteredFeature[];
  private readonly running: { readonly name: string; readonly part: Startable }[] = [];

  constructor(private readonly options: FeatureHostOptions) {
    this.selected = options.definitions.flatMap((definition) => {
      try {
        return definition.uses(options.config) ? [definition] : [];
      } catch (error) {
        options.logger.error(`feature "${definition.name}" could not read its part of the config: ${errorMessage(error)}; left out`);
        return [];
      }
    });
  }

  /** Every gate of the features in use, in registry order. */
  /** `config`: the users and inputs served now, when they changed at run time (a fleet refresh). */
  gates(config: PresenceBridgeConfig = this.options.config): PresenceGate[] {
    const { clock } = this.options;
    return this.selected.flatMap((definition) => {
      try {
        return [...definition.gatesFor(config, { clock, config, logger: this.loggerFor(definition) })];
      } catch (error) {
        this.options.logger.error(`feature "${definition.name}": its gates could not be built: ${errorMessage(error)}; none applied`);
        return [];
      }
    });
  }

  /**
   * Builds every feature, then starts them in order; one that fails is logged and the next still
   * starts. All are built before any starts, so routes and readiness checks are registered before
   * the HTTP server (last in the registry) listens.
   */
  async start(): Promise<void> {
    const built: { readonly name: string; readonly part: Startable }[] = [];
    for (const definition of this.selected) {
      try {
        const part = definition.build(this.options.config, this.contextFor(definition));
        if (part) built.push({ name: definition.name, part });
      } catch (error) {
        this.options.logger.error(`feature "${definition.name}" failed to start: ${errorMessage(error)}`);
      }
    }
    for (const entry of built) {
      // listed before it starts: stop() releases what a failed start opened
      this.running.push(entry);
      try {
        await entry.part.start();
      } catch (error) {
        this.options.logger.error(`feature "${entry.name}" failed to start: ${errorMessage(error)}`);
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

  private loggerFor(definition: RegisteredFeature): Logger {
    const prefix = definition.logPrefix === undefined ? `[${definition.name}]` : definition.logPrefix;
    return prefix === null ? this.options.logger : prefixedLogger(this.options.logger, prefix);
  }

  private contextFor(definition: RegisteredFeature): FeatureContext {
    const { clock, storagePath, config, bridge, events, http, routes, instance, readiness } = this.options;
    return Object.freeze({ logger: this.loggerFor(definition), clock, storagePath, config, bridge, events, http, routes, instance, readiness });
  }
}
