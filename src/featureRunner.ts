import type { Startable } from './bridgeTypes.js';
import type { FeatureContext, FeatureDefinition } from './feature.js';
import type { Logger } from './logger.js';
import { errorMessage, prefixedLogger } from './logger.js';

/**
 * Builds and runs the registry's feature definitions: every feature is created first (so each has
 * registered its routes before the `http` feature's server listens), then started in registry
 * order, and stopped in reverse. A feature that fails is logged and left out; the rest run.
 */
export class FeatureRunner {
  private readonly running: { readonly name: string; readonly feature: Startable }[] = [];

  constructor(
    private readonly definitions: readonly FeatureDefinition<unknown>[],
    /** The context every feature shares; each gets its own prefixed logger. */
    private readonly context: Omit<FeatureContext, 'logger'>,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const created: { name: string; feature: Startable }[] = [];
    for (const definition of this.definitions) {
      try {
        const slice = definition.select(this.context.config);
        if (slice === null || !definition.create) continue;
        created.push({ name: definition.name, feature: definition.create(slice, { ...this.context, logger: prefixedLogger(this.logger, `[${definition.name}]`) }) });
      } catch (error) {
        this.logger.error(`feature ${definition.name} could not be built: ${errorMessage(error)}`);
      }
    }
    for (const entry of created) {
      this.running.push(entry); // stop() still releases what a failed start opened
      try {
        await entry.feature.start();
      } catch (error) {
        this.logger.error(`feature ${entry.name} failed to start: ${errorMessage(error)}`);
      }
    }
  }

  async stop(): Promise<void> {
    for (const { name, feature } of this.running.splice(0).reverse()) {
      try {
        await feature.stop();
      } catch (error) {
        this.logger.error(`feature ${name} failed to stop: ${errorMessage(error)}`);
      }
    }
  }
}
