import { z } from 'zod';

/** The config key of the API's section. */
export const API_SECTION_KEY = 'api';

/**
 * `api`: the local HTTP API (docs/http-api.md). It is served by the one local HTTP server (the
 * `http` section, or the daemon's `--http`), which guards it with the server's token whenever it
 * is bound beyond loopback.
 */
export const apiSchema = z
  .object({
    enabled: z.boolean().default(true).meta({ title: 'Enabled', description: 'Serve the HTTP API under /api/v1 on the local HTTP server (needs the http section, or the daemon\'s --http).' }),
    commands: z
      .boolean()
      .default(true)
      .meta({ title: 'Presence commands', description: 'Act on PUT and DELETE /api/v1/users/{user}/presence. Anyone holding the server\'s token (or on this machine, when it listens on loopback only) drives presence; off makes the API read-only.' }),
    preferredPresence: z
      .boolean()
      .default(false)
      .meta({ title: 'Preferred presence', description: 'Also act on PUT and DELETE /api/v1/users/{user}/preferred-presence, which sets the user-preferred presence: it overrides every session, Teams\' own included, for up to a week. Off unless you need it.' }),
  })
  .strict();

export type ApiConfig = z.output<typeof apiSchema>;

declare module '../config/schema.js' {
  interface FeatureSections {
    api?: ApiConfig;
  }
}
