import type { FeatureFactory, Startable } from '../bridgeTypes.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { FeatureDefinition } from '../feature.js';
import { featureBridge } from './featureBridge.js';

export interface FactoryFeatureOptions {
  readonly name: string;
  readonly factory: FeatureFactory;
  /** Input names the feature delivers through `setIntent`. */
  readonly reservedInputs?: readonly string[];
  /** Whether the config uses the feature (its reserved inputs count only then); default always. */
  readonly uses?: (config: PresenceBridgeConfig) => boolean;
}

const IDLE: Startable = { start: () => Promise.resolve(), stop: () => Promise.resolve() };

/**
 * Wraps an older {@link FeatureFactory} into a FeatureDefinition, so the core runs one kind of
 * feature. The factory prefixes its own log lines, so its context logger is left unprefixed.
 */
export function factoryFeature(options: FactoryFeatureOptions): FeatureDefinition<PresenceBridgeConfig> {
  return {
    name: options.name,
    logPrefix: null,
    ...(options.reservedInputs ? { reservedInputs: options.reservedInputs } : {}),
    select: (config) => (options.uses === undefined || options.uses(config) ? config : null),
    create: (config, context) => options.factory(config, featureBridge(context), { logger: context.logger, clock: context.clock, storagePath: context.storagePath, ...(context.readiness ? { readiness: context.readiness } : {}) }) ?? IDLE,
  };
}
