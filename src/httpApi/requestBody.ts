import {
  MAX_HOLD_MS,
  MAX_HOLD_TEXT,
  MAX_PREFERRED_EXPIRATION_MS,
  MAX_PREFERRED_EXPIRATION_TEXT,
  parseIsoDuration,
} from '../presence/duration.js';
import type { PresencePair } from '../presence/presencePair.js';
import { PREFERRED_PAIR_LIST, SESSION_PAIR_LIST, parsePreferredPair, parseSessionPair } from '../presence/presencePair.js';

/** Largest request body the API reads (a presence request is under 100 bytes). */
export const MAX_BODY_BYTES = 4096;

/** Why a request was refused, before anything happened: an HTTP status and a stable code. */
export interface BodyProblem {
  readonly status: 400 | 413 | 415;
  readonly code: 'invalidJson' | 'invalidBody' | 'payloadTooLarge' | 'unsupportedMediaType';
  readonly message: string;
}

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: BodyProblem };

/** `PUT …/presence`: a pair setPresence accepts, held for `durationMs` when given. */
export interface PresenceRequest {
  readonly pair: PresencePair;
  readonly durationMs?: number;
}

/** `PUT …/preferred-presence`: a preferred pair, and Graph's expirationDuration when given. */
export interface PreferredRequest {
  readonly presence: { readonly availability: string; readonly activity: string };
  readonly expiration?: string;
}

const bad = (message: string): Read<never> => ({ ok: false, problem: { status: 400, code: 'invalidBody', message } });

/** The body as a JSON object with only `presence` and `for`, after the size and media type checks. */
function readObject(contentType: string | undefined, body: string): Read<{ presence: string; for?: string }> {
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    return { ok: false, problem: { status: 413, code: 'payloadTooLarge', message: `the body is larger than ${MAX_BODY_BYTES} bytes` } };
  }
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { ok: false, problem: { status: 415, code: 'unsupportedMediaType', message: 'send the body as JSON with Content-Type: application/json' } };
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, problem: { status: 400, code: 'invalidJson', message: 'the body is not valid JSON' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the body must be a JSON object such as {"presence":"Busy/InACall"}');
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => k !== 'presence' && k !== 'for');
  if (unknown.length > 0) return bad(`unknown field ${JSON.stringify(unknown[0])}: the body takes presence and for`);
  if (typeof record.presence !== 'string') return bad('presence must be a string such as "Busy/InACall"');
  if (record.for !== undefined && typeof record.for !== 'string') return bad('for must be an ISO 8601 duration string such as "PT30M"');
  return { ok: true, value: record.for === undefined ? { presence: record.presence } : { presence: record.presence, for: record.for } };
}

/** A positive duration no longer than `maxMs` (it ends up in a timer, here or at Graph). */
function readDuration(text: string, maxMs: number, maxText: string): Read<number> {
  const ms = parseIsoDuration(text);
  if (ms === undefined || ms <= 0) return bad(`for "${text}" is not a positive ISO 8601 duration such as PT30M`);
  if (ms > maxMs) return bad(`for "${text}" is longer than the ${maxText} limit`);
  return { ok: true, value: ms };
}

/** Pure: the body of `PUT /api/v1/users/{user}/presence`. */
export function readPresenceRequest(contentType: string | undefined, body: string): Read<PresenceRequest> {
  const object = readObject(contentType, body);
  if (!object.ok) return object;
  const pair = parseSessionPair(object.value.presence);
  if (!pair) return bad(`"${object.value.presence}" is not a presence setPresence accepts; use one of ${SESSION_PAIR_LIST} (DELETE clears)`);
  if (object.value.for === undefined) return { ok: true, value: { pair } };
  const duration = readDuration(object.value.for, MAX_HOLD_MS, MAX_HOLD_TEXT);
  return duration.ok ? { ok: true, value: { pair, durationMs: duration.value } } : duration;
}

/** Pure: the body of `PUT /api/v1/users/{user}/preferred-presence`. */
export function readPreferredRequest(contentType: string | undefined, body: string): Read<PreferredRequest> {
  const object = readObject(contentType, body);
  if (!object.ok) return object;
  const presence = parsePreferredPair(object.value.presence);
  if (!presence) return bad(`"${object.value.presence}" is not a preferred presence; use one of ${PREFERRED_PAIR_LIST} (DELETE clears)`);
  if (object.value.for === undefined) return { ok: true, value: { presence } };
  const duration = readDuration(object.value.for, MAX_PREFERRED_EXPIRATION_MS, MAX_PREFERRED_EXPIRATION_TEXT);
  return duration.ok ? { ok: true, value: { presence, expiration: object.value.for.trim().toUpperCase() } } : duration;
}
