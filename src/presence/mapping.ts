import { MAX_HOLD_MS, MAX_HOLD_TEXT, formatIsoDuration, parseIsoDuration } from './duration.js';
import type { Intent, Signal } from './intent.js';
import { formatPresence, parseSessionPair, SESSION_PAIR_LIST, type PresencePair } from './presencePair.js';
import { BridgeError } from '../shared/errors.js';

/**
 * Mapping (pure): one input's config turns a signal `{input, value, at}` into an intent.
 *
 * Value matching. Both the map keys and the received value go through {@link normaliseValue}:
 * trimmed, lower-cased, then the boolean spellings fold into one word:
 *
 * | received (text, any case)     | JSON value | matches map key |
 * | ----------------------------- | ---------- | --------------- |
 * | `on`, `true`, `1`             | `true`, 1  | `on`, `true`, `1` (all the same key) |
 * | `off`, `false`, `0`           | `false`, 0 | `off`, `false`, `0` (all the same key) |
 * | anything else, e.g. `OFFHOOK` | `"OFFHOOK"`| `offhook`, `OFFHOOK`, ` OffHook ` |
 *
 * So a map key `on` matches the payloads `true`, `1`, `ON` and JSON `true`; `off` matches
 * `false`, `0`, `OFF` and JSON `false`. Two map keys that normalise alike (`on` and `1`, or
 * `OFFHOOK` and `offhook`) are a config error.
 *
 * Toggle. An input's `toggle` values cycle through its `toggle` list, then clear, then start at
 * the first again: with `["Busy/InACall", "DoNotDisturb/Presenting"]` the presses give
 * Busy/InACall, DoNotDisturb/Presenting, clear, Busy/InACall, …
 * Other values of the same input move the cycle as the user would expect from one button:
 * - a set (plain or timed) to a pair that is in the toggle list puts the cycle at that pair, so
 *   the next toggle goes on to the pair after it (or clears after the last);
 * - a set to a pair that is not in the list marks the input as holding something else, so the
 *   next toggle clears it (a press turns off whatever the input holds);
 * - clear resets the cycle: the next toggle gives the first pair;
 * - once a timed set has ended by itself (`until <= at` of the next signal) the cycle is back at
 *   its start, as after a clear.
 * A value that maps to nothing leaves the cycle where it was.
 */

/** What one map value does, compiled. */
export type MapAction =
  | { readonly kind: 'set'; readonly pair: PresencePair; readonly forMs?: number }
  | { readonly kind: 'clear' }
  | { readonly kind: 'toggle' };

/** A map value as the config holds it. */
export type MapEntryInput = string | { readonly set: string; readonly for: string };

export interface MappingInput {
  readonly name: string;
  readonly field?: string | undefined;
  readonly map: Readonly<Record<string, MapEntryInput>>;
  readonly toggle?: readonly string[] | undefined;
}

export interface InputMapping {
  readonly input: string;
  /** The JSON field path, split at dots; undefined for plain text values. */
  readonly field: readonly string[] | undefined;
  /** Normalised value → action. */
  readonly entries: ReadonlyMap<string, MapAction>;
  /** Map key as configured, per normalised value (for messages and summaries). */
  readonly keys: ReadonlyMap<string, string>;
  readonly toggle: readonly PresencePair[];
}

/**
 * Where an input's toggle cycle stands. Opaque to callers: keep the one returned by
 * {@link mapSignal} per input and pass it back with the next signal.
 */
export interface ToggleState {
  /** -1: at the start; -2: holding a pair outside the list; 0…n-1: at that list entry. */
  readonly position: number;
  /** When the held pair ends by itself (a timed set), if it does. */
  readonly until?: number;
}

const AT_START = -1;
const HOLDING_OTHER = -2;

export function initialToggleState(): ToggleState {
  return { position: AT_START };
}

export interface MapResult {
  readonly intent: Intent | null;
  readonly toggle: ToggleState;
  /** Why the signal mapped to nothing (logged by the caller). */
  readonly reason?: string;
}

const ON_WORDS = new Set(['on', 'true', '1']);
const OFF_WORDS = new Set(['off', 'false', '0']);

/** Trim, lower-case, and fold the boolean spellings into `on` / `off` (table above). */
export function normaliseValue(value: string): string {
  const lower = value.trim().toLowerCase();
  if (ON_WORDS.has(lower)) return 'on';
  if (OFF_WORDS.has(lower)) return 'off';
  return lower;
}

function compileAction(inputName: string, key: string, entry: MapEntryInput, toggleList: readonly PresencePair[]): MapAction {
  const where = `input "${inputName}", map value "${key}"`;
  if (typeof entry === 'string') {
    const word = entry.trim().toLowerCase();
    if (word === 'clear') return { kind: 'clear' };
    if (word === 'toggle') {
      if (toggleList.length === 0) throw new MappingError('TOGGLE_WITHOUT_LIST', `${where}: "toggle" needs a non-empty toggle list on the input`);
      return { kind: 'toggle' };
    }
    const pair = parseSessionPair(entry);
    if (!pair) throw new MappingError('UNKNOWN_PRESENCE', `${where}: "${entry}" is not clear, toggle or a presence setPresence accepts (${SESSION_PAIR_LIST})`);
    return { kind: 'set', pair };
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.set !== 'string' || typeof entry.for !== 'string') {
    throw new MappingError('BAD_ENTRY', `${where}: expected a presence, clear, toggle or {"set": presence, "for": duration}`);
  }
  const pair = parseSessionPair(entry.set);
  if (!pair) throw new MappingError('UNKNOWN_PRESENCE', `${where}: "${entry.set}" is not a presence setPresence accepts (${SESSION_PAIR_LIST})`);
  const forMs = parseIsoDuration(entry.for);
  if (forMs === undefined || forMs <= 0) throw new MappingError('BAD_DURATION', `${where}: "${entry.for}" is not a positive ISO 8601 duration such as PT30M`);
  if (forMs > MAX_HOLD_MS) throw new MappingError('HOLD_TOO_LONG', `${where}: "for" of "${entry.for}" is longer than the ${MAX_HOLD_TEXT} limit`);
  return { kind: 'set', pair, forMs };
}

/** Why an input's mapping cannot be compiled; the message names the input and the value. */
export type MappingErrorCode =
  | 'NO_NAME' // the input has no name
  | 'UNKNOWN_PRESENCE' // a map value or toggle entry is not a pair setPresence accepts
  | 'TOGGLE_WITHOUT_LIST' // "toggle" with no toggle list on the input
  | 'BAD_ENTRY' // neither a presence, clear, toggle nor {"set", "for"}
  | 'BAD_DURATION' // "for" is not a positive ISO 8601 duration
  | 'HOLD_TOO_LONG' // "for" is longer than the hold limit
  | 'EMPTY_FIELD_PART' // "field" has an empty dotted part
  | 'DUPLICATE_VALUE'; // two map keys normalise to the same value

export class MappingError extends BridgeError<MappingErrorCode> {
  constructor(code: MappingErrorCode, message: string) {
    super(message, code);
  }
}

/** Compile one input's config. Throws a {@link MappingError} naming the input and value on anything invalid. */
export function compileMapping(input: MappingInput): InputMapping {
  if (typeof input.name !== 'string' || input.name.trim() === '') throw new MappingError('NO_NAME', 'input without a name');
  const toggle = (input.toggle ?? []).map((text, i) => {
    const pair = typeof text === 'string' ? parseSessionPair(text) : undefined;
    if (!pair) throw new MappingError('UNKNOWN_PRESENCE', `input "${input.name}", toggle[${i}]: "${String(text)}" is not a presence setPresence accepts (${SESSION_PAIR_LIST})`);
    return pair;
  });
  let field: string[] | undefined;
  if (input.field !== undefined && input.field.trim() !== '') {
    field = input.field.trim().split('.');
    if (field.some((part) => part === '')) throw new MappingError('EMPTY_FIELD_PART', `input "${input.name}": field "${input.field}" has an empty part`);
  }
  const entries = new Map<string, MapAction>();
  const keys = new Map<string, string>();
  for (const [key, entry] of Object.entries(input.map)) {
    const normal = normaliseValue(key);
    const previous = keys.get(normal);
    if (previous !== undefined) throw new MappingError('DUPLICATE_VALUE', `input "${input.name}": map values "${previous}" and "${key}" mean the same value`);
    keys.set(normal, key);
    entries.set(normal, compileAction(input.name, key, entry, toggle));
  }
  return { input: input.name, field, entries, keys, toggle };
}

type Extracted = { ok: true; value: string } | { ok: false; reason: string };

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The value of a JSON payload at a dotted path; arrays are indexed by number (`buttons.0`). */
function extract(mapping: InputMapping, payload: string): Extracted {
  if (!mapping.field) {
    const trimmed = payload.trim();
    // A JSON string or boolean sent as a whole payload ("ON", true) counts as its value.
    if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (typeof parsed === 'string') return { ok: true, value: parsed };
      } catch {
        // Not a JSON string: match the text as it is.
      }
    }
    return { ok: true, value: payload };
  }
  const fieldText = mapping.field.join('.');
  let current: unknown;
  try {
    current = JSON.parse(payload);
  } catch {
    return { ok: false, reason: `payload is not JSON (field "${fieldText}" expected)` };
  }
  for (const part of mapping.field) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(part)) return { ok: false, reason: `field "${fieldText}" not found in payload` };
      current = current[Number(part)];
    } else if (typeof current === 'object' && current !== null && Object.hasOwn(current, part)) {
      current = (current as Record<string, unknown>)[part];
    } else {
      return { ok: false, reason: `field "${fieldText}" not found in payload` };
    }
    if (current === undefined) return { ok: false, reason: `field "${fieldText}" not found in payload` };
  }
  const text = scalarText(current);
  if (text === undefined) {
    const what = current === null ? 'null' : Array.isArray(current) ? 'an array' : typeof current;
    return { ok: false, reason: `field "${fieldText}" is ${what}, not a text, number or boolean` };
  }
  return { ok: true, value: text };
}

function toggleAfterSet(mapping: InputMapping, pair: PresencePair, until: number | undefined): ToggleState {
  const index = mapping.toggle.findIndex((p) => p.availability === pair.availability && p.activity === pair.activity);
  const position = index >= 0 ? index : HOLDING_OTHER;
  return until === undefined ? { position } : { position, until };
}

/** Turn one signal into an intent (pure). The returned toggle state replaces the one passed in. */
export function mapSignal(mapping: InputMapping, signal: Signal, toggle: ToggleState): MapResult {
  const extracted = extract(mapping, signal.value);
  if (!extracted.ok) return { intent: null, toggle, reason: extracted.reason };
  const action = mapping.entries.get(normaliseValue(extracted.value));
  if (!action) return { intent: null, toggle, reason: `no mapping for "${extracted.value.trim()}"` };
  const at = signal.at;
  switch (action.kind) {
    case 'clear':
      return { intent: { kind: 'clear', at }, toggle: initialToggleState() };
    case 'set': {
      const until = action.forMs === undefined ? undefined : at + action.forMs;
      const intent: Intent = until === undefined ? { kind: 'set', pair: action.pair, at } : { kind: 'set', pair: action.pair, at, until };
      return { intent, toggle: toggleAfterSet(mapping, action.pair, until) };
    }
    case 'toggle': {
      const ended = toggle.until !== undefined && toggle.until <= at;
      const position = ended ? AT_START : toggle.position;
      // From the start go to the first pair; from a list entry to the next one or, after the
      // last, to clear; from a pair outside the list to clear.
      const next = position === HOLDING_OTHER ? mapping.toggle.length : position + 1;
      const pair = mapping.toggle[next];
      if (!pair) return { intent: { kind: 'clear', at }, toggle: initialToggleState() };
      return { intent: { kind: 'set', pair, at }, toggle: { position: next } };
    }
  }
}

/** One line per map value, e.g. `OFFHOOK → Busy/InACall`, for summaries (check-config). */
export function describeMapping(mapping: InputMapping): { value: string; does: string }[] {
  const cycle = [...mapping.toggle.map(formatPresence), 'clear'].join(' → ');
  return [...mapping.entries].map(([normal, action]) => {
    const value = mapping.keys.get(normal) ?? normal;
    switch (action.kind) {
      case 'clear':
        return { value, does: 'clear' };
      case 'toggle':
        return { value, does: `toggle: ${cycle}` };
      case 'set':
        return { value, does: action.forMs === undefined ? formatPresence(action.pair) : `${formatPresence(action.pair)} for ${formatIsoDuration(action.forMs)}` };
    }
  });
}
