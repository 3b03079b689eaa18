import { MAX_HOLD_MS, MAX_HOLD_TEXT, MAX_PREFERRED_EXPIRATION_MS, MAX_PREFERRED_EXPIRATION_TEXT, parseIsoDuration } from '../presence/duration.js';
import type { PresencePair } from '../presence/presencePair.js';
import {
  PREFERRED_PAIR_LIST,
  SESSION_PAIR_LIST,
  parsePreferredPair,
  parseSessionPair,
} from '../presence/presencePair.js';

/**
 * Payloads of the command topics, parsed without side effects.
 * - `<base>/<user>/set`: `Busy/InACall`, `clear`, or
 *   `{"availability":"Busy","activity":"InACall","expiration":"PT30M"}` (expiration optional).
 * - `<base>/<user>/prefer`: `Busy/Busy`, `clear`, or
 *   `{"availability":"Busy","activity":"Busy","expiration":"PT1H"}`.
 */
export type SetCommand =
  | { readonly kind: 'set'; readonly pair: PresencePair; readonly durationMs?: number }
  | { readonly kind: 'clear' };

export type PreferCommand =
  | { readonly kind: 'prefer'; readonly presence: { availability: string; activity: string }; readonly expiration?: string }
  | { readonly kind: 'clear' };

export type Parsed<T> = { ok: true; command: T } | { ok: false; error: string };

interface RawCommand {
  readonly clear: boolean;
  readonly pairText?: string;
  readonly expiration?: string;
}

function readRaw(text: string): Parsed<RawCommand> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'empty payload' };
  if (!trimmed.startsWith('{') && !trimmed.startsWith('"')) {
    if (trimmed.toLowerCase() === 'clear') return { ok: true, command: { clear: true } };
    return { ok: true, command: { clear: false, pairText: trimmed } };
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { ok: false, error: 'malformed JSON' };
  }
  if (typeof value === 'string') {
    if (/^\s*[{"]/.test(value)) return { ok: false, error: 'malformed JSON' };
    return readRaw(value);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'JSON payload must be an object' };
  const record = value as Record<string, unknown>;
  const { availability, activity, expiration } = record;
  if (expiration !== undefined && typeof expiration !== 'string') return { ok: false, error: 'expiration must be an ISO 8601 duration string, e.g. PT30M' };
  if (typeof availability === 'string' && availability.trim().toLowerCase() === 'clear' && activity === undefined) {
    return { ok: true, command: { clear: true } };
  }
  if (typeof availability !== 'string' || typeof activity !== 'string') return { ok: false, error: 'JSON payload needs string fields availability and activity' };
  return { ok: true, command: { clear: false, pairText: `${availability}/${activity}`, expiration } };
}

/** A positive duration no longer than `maxMs`: every one of them ends up in a timer, here or at Graph. */
function parseExpiration(expiration: string, maxMs: number, maxText: string): Parsed<number> {
  const ms = parseIsoDuration(expiration);
  if (ms === undefined || ms <= 0) return { ok: false, error: `expiration "${expiration}" is not a positive ISO 8601 duration such as PT30M` };
  if (ms > maxMs) return { ok: false, error: `expiration "${expiration}" is longer than the ${maxText} limit` };
  return { ok: true, command: ms };
}

export function parseSetCommand(text: string): Parsed<SetCommand> {
  const raw = readRaw(text);
  if (!raw.ok) return raw;
  if (raw.command.clear) return { ok: true, command: { kind: 'clear' } };
  const pairText = raw.command.pairText ?? '';
  const pair = parseSessionPair(pairText);
  if (!pair) return { ok: false, error: `"${pairText}" is not a presence setPresence accepts; use one of ${SESSION_PAIR_LIST}, or clear` };
  if (raw.command.expiration === undefined) return { ok: true, command: { kind: 'set', pair } };
  const duration = parseExpiration(raw.command.expiration, MAX_HOLD_MS, MAX_HOLD_TEXT);
  if (!duration.ok) return duration;
  return { ok: true, command: { kind: 'set', pair, durationMs: duration.command } };
}

export function parsePreferCommand(text: string): Parsed<PreferCommand> {
  const raw = readRaw(text);
  if (!raw.ok) return raw;
  if (raw.command.clear) return { ok: true, command: { kind: 'clear' } };
  const pairText = raw.command.pairText ?? '';
  const presence = parsePreferredPair(pairText);
  if (!presence) return { ok: false, error: `"${pairText}" is not a preferred presence; use one of ${PREFERRED_PAIR_LIST}, or clear` };
  if (raw.command.expiration === undefined) return { ok: true, command: { kind: 'prefer', presence } };
  const duration = parseExpiration(raw.command.expiration, MAX_PREFERRED_EXPIRATION_MS, MAX_PREFERRED_EXPIRATION_TEXT);
  if (!duration.ok) return duration;
  return { ok: true, command: { kind: 'prefer', presence, expiration: raw.command.expiration.trim().toUpperCase() } };
}
