import type { Startable } from '../bridgeTypes.js';
import type { FeatureContext, FeatureDefinition } from '../feature.js';
import { registerStatusPage, type DemoButtons, type StatusPage } from './statusRoutes.js';

export interface StatusPageSlice {
  /** Title on the page: the config's `name`. */
  readonly name: string;
}

/** Extras of the demo's page: its sped-up time and its buttons. */
export interface DemoPageOptions {
  readonly name?: string;
  readonly timeScale: number;
  readonly demo: DemoButtons;
}

/**
 * The status page as a feature: its routes go on the one local HTTP server when the feature is
 * created, and it listens to the bridge's events until stopped.
 */
export class StatusPageFeature implements Startable {
  private readonly page: StatusPage;

  constructor(slice: StatusPageSlice, context: FeatureContext, extras?: DemoPageOptions) {
    this.page = registerStatusPage(context.routes, { events: context.events, states: () => context.bridge.states() }, {
      logger: context.logger,
      clock: context.clock,
      name: extras?.name ?? slice.name,
      ...(extras ? { timeScale: extras.timeScale, demo: extras.demo } : {}),
    });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.page.close();
    return Promise.resolve();
  }
}

/** On whenever the `http` section is: the daemon and the plugin get the page the same way. */
export const statusPageFeature: FeatureDefinition<StatusPageSlice> = {
  name: 'statusPage',
  select: (config) => (config.http ? { name: config.name } : null),
  create: (slice, context) => new StatusPageFeature(slice, context),
};

/** The demo's page (`presence-bridge demo`): the same feature with sped-up time and buttons. */
export function demoStatusPageFeature(options: DemoPageOptions): FeatureDefinition<StatusPageSlice> {
  return { ...statusPageFeature, create: (slice, context) => new StatusPageFeature(slice, context, options) };
}
