import type { FeatureDefinition } from '../feature.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { API_SECTION_KEY, apiSchema } from './config.js';
import type { ApiConfig } from './config.js';
import { API_INPUT, HttpApi } from './httpApi.js';

export { API_INPUT, HttpApi, apiError } from './httpApi.js';
export { apiSchema } from './config.js';
export type { ApiConfig } from './config.js';
export { openApiDocument, API_BASE } from './openapi.js';

/** The `api` section with its defaults applied, or undefined when absent or not valid. */
function apiSection(config: PresenceBridgeConfig): ApiConfig | undefined {
  if (config.api === undefined) return undefined;
  const parsed = apiSchema.safeParse(config.api);
  return parsed.success ? parsed.data : undefined;
}

/** The local HTTP API (docs/http-api.md): `/api/v1` on the one local HTTP server, with its own `http-api` input. */
export const httpApiFeature: FeatureDefinition<ApiConfig> = {
  name: 'httpApi',
  section: {
    key: API_SECTION_KEY,
    schema: apiSchema.optional(),
    title: 'HTTP API',
    description: 'A local HTTP API (/api/v1) to read every user\'s state and set, time-limit or clear a presence, for scripts, Stream Deck, Shortcuts and Home Assistant. Served by the local HTTP server (http section).',
  },
  reservedInputs: [API_INPUT],
  reservedFor: 'local HTTP API',
  form: { title: 'HTTP API', description: 'Read and set presence over HTTP on the local server (needs the http section).', expanded: false, paths: ['api'] },
  check(config, report) {
    const api = apiSection(config);
    if (api?.enabled && api.preferredPresence && !api.commands) {
      report.warning(`${API_SECTION_KEY}.preferredPresence`, 'has no effect while api.commands is off');
    }
  },
  select(config) {
    const api = apiSection(config);
    return api?.enabled ? api : null;
  },
  create(slice, context) {
    const api = new HttpApi(slice, context);
    api.register(context.routes);
    return api;
  },
};
