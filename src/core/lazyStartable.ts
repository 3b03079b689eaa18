import type { Startable } from '../bridgeTypes.js';

/**
 * A feature's runtime part whose code is imported only when it starts (issue 16, memory): the
 * definition (schema, checks, select) stays in the registry for config validation, while the
 * modules behind `create` (prom-client, mqtt.js, the status page) load only for a config that uses
 * the feature. `load` imports the code and builds the part; it runs once, at the first `start`.
 * Routes a lazily built part registers still precede the HTTP server, which starts last.
 */
export function lazyStartable(load: () => Promise<Startable>): Startable {
  let part: Promise<Startable> | undefined;
  return {
    async start() {
      part ??= load();
      await (await part).start();
    },
    async stop() {
      if (part === undefined) return;
      let built: Startable;
      try {
        built = await part;
      } catch {
        return; // never built, so nothing to stop (its start already reported why)
      }
      await built.stop();
    },
  };
}
