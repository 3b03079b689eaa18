import { MAX_HOLD_TEXT, MAX_PREFERRED_EXPIRATION_TEXT } from '../presence/duration.js';
import { PREFERRED_PAIRS, SESSION_PAIRS, formatPresence } from '../presence/presencePair.js';
import { MAX_BODY_BYTES } from './requestBody.js';

/** The API's own version (the document's `info.version`); the path's `v1` changes only with a breaking change. */
export const API_VERSION = '1.0.0';

/** Where the API lives; every route is below it. */
export const API_BASE = '/api/v1';

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown): { content: { 'application/json': { schema: unknown } } } => ({ content: { 'application/json': { schema } } });
const error = (description: string, headers?: Record<string, unknown>): Record<string, unknown> => ({ description, ...(headers ? { headers } : {}), ...json(ref('Error')) });
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before sending the command again.', schema: { type: 'integer', minimum: 1 } } };

const nullableString = (description: string, format?: string): Record<string, unknown> => ({ type: ['string', 'null'], ...(format ? { format } : {}), description });
const userParameter = { name: 'user', in: 'path', required: true, description: 'The user\'s `key` from the config\'s users list.', schema: { type: 'string' } };

/** Answers every guarded route may give before its handler runs (the shared server's, see docs/http-api.md). */
const guarded = {
  '401': error('The server\'s token is required (the server is bound beyond loopback, or a token is set) and was missing or wrong.'),
  '421': error('The server listens on loopback only and the request named another host (a guard against DNS rebinding).'),
  '500': error('The bridge failed to handle the request (its log says why).'),
};
/** Answers of DELETE commands (they take no body). */
const clearErrors = {
  ...guarded,
  '400': error('DELETE takes no body.'),
  '403': error('This command is turned off in the config (`api.commands`, `api.preferredPresence`).'),
  '404': error('No user has this key.'),
  '429': error('Commands for this user come faster than the API applies them (10 in any 30 s, one at a time); nothing was done.', retryAfter),
  '503': error('The bridge is stopping or not started.'),
};
/** Answers of PUT commands. */
const setErrors = {
  ...clearErrors,
  '400': error('The body is not a JSON object with a known presence and a valid `for`.'),
  '413': error(`The body is larger than ${MAX_BODY_BYTES} bytes.`),
  '415': error('The body is not sent as `application/json`.'),
};

/** The API's paths (operations and their responses). */
function paths(): Record<string, unknown> {
  return {
  [`${API_BASE}/openapi.json`]: {
    get: {
      operationId: 'getOpenApiDocument',
      summary: 'This document.',
      security: [],
      responses: { '200': { description: 'The OpenAPI document.', ...json({ type: 'object' }) } },
    },
  },
  [`${API_BASE}/users`]: {
    get: {
      operationId: 'listUsers',
      summary: 'Every configured user\'s state.',
      responses: { '200': { description: 'Every user, in config order.', ...json(ref('UserList')) }, ...guarded },
    },
  },
  [`${API_BASE}/users/{user}`]: {
    parameters: [userParameter],
    get: {
      operationId: 'getUser',
      summary: 'One user\'s state.',
      responses: { '200': { description: 'The user.', ...json(ref('User')) }, '404': error('No user has this key.'), ...guarded },
    },
  },
  [`${API_BASE}/users/{user}/presence`]: {
    parameters: [userParameter],
    put: {
      operationId: 'setPresence',
      summary: 'Hold a presence for the user as the `http-api` input, until cleared or for a while.',
      description: 'The `http-api` input is ranked like every other input: the highest availability held by any input wins (DoNotDisturb > Busy > Available > Away), the most recent among equals. The answer shows what the bridge now asserts (`desired`, `source`).',
      requestBody: { required: true, ...json(ref('PresenceRequest')) },
      responses: { '200': { description: 'Held; the user\'s state after the change.', ...json(ref('User')) }, ...setErrors },
    },
    delete: {
      operationId: 'clearPresence',
      summary: 'Withdraw the `http-api` input\'s presence for the user (other inputs keep theirs).',
      responses: { '200': { description: 'Withdrawn; the user\'s state after the change.', ...json(ref('User')) }, ...clearErrors },
    },
  },
  [`${API_BASE}/users/{user}/preferred-presence`]: {
    parameters: [userParameter],
    put: {
      operationId: 'setPreferredPresence',
      summary: 'Set the user-preferred presence at Graph (overrides every session). Needs `api.preferredPresence`.',
      requestBody: { required: true, ...json(ref('PreferredPresenceRequest')) },
      responses: {
        '200': { description: 'Graph accepted it.', ...json(ref('PreferredPresenceResult')) },
        '502': error('Graph refused it (the code says why, e.g. a missing permission).'),
        ...setErrors,
      },
    },
    delete: {
      operationId: 'clearPreferredPresence',
      summary: 'Clear the user-preferred presence at Graph. Needs `api.preferredPresence`.',
      responses: {
        '200': { description: 'Graph cleared it.', ...json(ref('PreferredPresenceResult')) },
        '502': error('Graph refused it.'),
        ...clearErrors,
      },
    },
  },
};
}

/** The error and request-body schemas. */
function requestSchemas(): Record<string, unknown> {
  return {
  Error: {
    type: 'object',
    additionalProperties: false,
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', description: 'Stable, for programs: branch on it.', examples: ['unknownUser', 'throttled'] },
          message: { type: 'string', description: 'For people; may change.' },
        },
      },
    },
  },
  PresenceRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['presence'],
    properties: {
      presence: { type: 'string', enum: SESSION_PAIRS.map(formatPresence), description: 'A pair setPresence accepts (matched without regard to case).' },
      for: { type: 'string', description: `How long to hold it, an ISO 8601 duration up to ${MAX_HOLD_TEXT} (e.g. PT30M); without it the presence holds until cleared.`, examples: ['PT30M'] },
    },
  },
  PreferredPresenceRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['presence'],
    properties: {
      presence: { type: 'string', enum: PREFERRED_PAIRS.map(formatPresence) },
      for: { type: 'string', description: `Graph's expirationDuration, an ISO 8601 duration up to ${MAX_PREFERRED_EXPIRATION_TEXT}; without it Graph keeps the preference for 7 days.` },
    },
  },
  PreferredPresenceResult: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'preferredPresence', 'for'],
    properties: {
      user: { type: 'string' },
      preferredPresence: { type: ['string', 'null'], description: 'What was set, or null when cleared.' },
      for: { type: ['string', 'null'] },
    },
  },
  };
}

/** The user and state schemas. */
function stateSchemas(): Record<string, unknown> {
  return {
  UserList: {
    type: 'object',
    additionalProperties: false,
    required: ['users'],
    properties: { users: { type: 'array', items: ref('User') } },
  },
  Intent: {
    type: 'object',
    additionalProperties: false,
    required: ['input', 'presence', 'since', 'until'],
    properties: {
      input: { type: 'string', description: 'The configured input, or a built-in one: `http-api`, `mqtt-command`, `homekit`.' },
      presence: { type: 'string' },
      since: { type: 'string', format: 'date-time' },
      until: nullableString('When it ends by itself, or null.', 'date-time'),
    },
  },
  User: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'id', 'displayName', 'desired', 'source', 'asserted', 'sessionExpiresAt', 'nextRenewalAt', 'actual', 'actualFrom', 'overridden', 'health', 'lastError', 'gated', 'intents', 'updatedAt'],
    properties: {
      key: { type: 'string' },
      id: { type: 'string', description: 'The user\'s id in the config (object id or user principal name).' },
      displayName: { type: 'string' },
      desired: nullableString('What the bridge wants asserted after ranking the inputs (and any gate), or null for clear.'),
      source: nullableString('The input the desired presence comes from.'),
      asserted: nullableString('What Graph last confirmed for the bridge\'s session, or null.'),
      sessionExpiresAt: nullableString('When that session expires at Graph unless renewed.', 'date-time'),
      nextRenewalAt: nullableString('When the bridge renews it next.', 'date-time'),
      actual: nullableString('The presence Graph reports for the user (read-back), or null when unknown.'),
      actualFrom: { enum: ['ours', 'otherSession', 'preferred', null], description: 'Where the actual presence comes from while the bridge asserts one.' },
      overridden: { type: 'boolean', description: 'A user-preferred presence overrides the bridge\'s session.' },
      health: { enum: ['ok', 'pending', 'retrying', 'unhealthy'] },
      lastError: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['code', 'message', 'hint', 'at'],
            properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
          },
        ],
      },
      gated: {
        description: 'Set while a gate held the inputs back, e.g. `{"gate":"workingHours","note":"outside working hours"}`.',
        oneOf: [
          { type: 'null' },
          { type: 'object', additionalProperties: false, required: ['gate', 'note'], properties: { gate: { type: 'string' }, note: { type: 'string' } } },
        ],
      },
      intents: { type: 'array', items: ref('Intent'), description: 'What each input holds now, highest precedence first.' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
};
}

/**
 * The OpenAPI 3.1 document of the API, served at `GET /api/v1/openapi.json`. Every response the
 * API tests receive is validated against it (test/httpApi/), so it cannot drift from the code.
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Presence Bridge local HTTP API',
      version: API_VERSION,
      description: 'Read every user\'s Teams presence state as the bridge holds it, and set, time-limit or clear a presence for a user as the bridge\'s `http-api` input. See docs/http-api.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearer: [] }, {}],
    paths: paths(),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The local HTTP server\'s token (`http.token`); required whenever the server is bound beyond loopback.' },
      },
      schemas: schemas(),
    },
  };
}

/** The API's schemas (components.schemas). */
function schemas(): Record<string, unknown> {
  return { ...requestSchemas(), ...stateSchemas() };
}
