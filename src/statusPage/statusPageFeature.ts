import type { Startable } from '../bridgeTypes.js';
import type { FeatureContext } from '../feature.js';
import type { DemoPageOptions, StatusPageSlice } from './types.js';
import { registerStatusPage, type StatusPage } from './statusRoutes.js';

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
