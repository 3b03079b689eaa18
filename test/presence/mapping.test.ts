import { describe, expect, it } from 'vitest';
import {
  compileMapping,
  describeMapping,
  initialToggleState,
  mapSignal,
  normaliseValue,
  type InputMapping,
  type MappingInput,
  type ToggleState,
  MappingError,
  type MappingErrorCode,
} from '../../src/presence/mapping.js';
import { BridgeError } from '../../src/shared/errors.js';
import type { Intent } from '../../src/presence/intent.js';
import { formatPresence } from '../../src/presence/presencePair.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Intent as short text: `Busy/InACall`, `Busy/InACall until +1800000`, `clear`, or null. */
function show(intent: Intent | null, at = T0): string | null {
  if (!intent) return null;
  if (intent.kind === 'clear') return 'clear';
  return intent.until === undefined ? formatPresence(intent.pair) : `${formatPresence(intent.pair)} until +${intent.until - at}`;
}

function run(mapping: InputMapping, values: string[], start: ToggleState = initialToggleState()): (string | null)[] {
  let toggle = start;
  return values.map((value, i) => {
    const result = mapSignal(mapping, { input: mapping.input, value, at: T0 + i }, toggle);
    toggle = result.toggle;
    return result.intent ? show(result.intent, T0 + i) : null;
  });
}

const headset = compileMapping({ name: 'Headset', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } });

describe('normaliseValue', () => {
  it.each([
    ['on', 'on'], ['ON', 'on'], [' On ', 'on'], ['true', 'on'], ['TRUE', 'on'], ['1', 'on'],
    ['off', 'off'], ['OFF', 'off'], ['false', 'off'], ['False', 'off'], ['0', 'off'], [' 0\r', 'off'],
    ['OFFHOOK', 'offhook'], ['  Single ', 'single'], ['2', '2'], ['yes', 'yes'], ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normaliseValue(input)).toBe(expected);
  });
});

describe('mapSignal: plain values', () => {
  it.each<[string, string | null, string | undefined]>([
    ['OFFHOOK', 'Busy/InACall', undefined],
    ['offhook', 'Busy/InACall', undefined],
    ['  OffHook\r\n', 'Busy/InACall', undefined],
    ['ONHOOK', 'clear', undefined],
    ['RING', null, 'no mapping for "RING"'],
    [' xyz ', null, 'no mapping for "xyz"'],
    ['', null, 'no mapping for ""'],
    ['"OFFHOOK"', 'Busy/InACall', undefined],
  ])('%j → %j', (value, expected, reason) => {
    const result = mapSignal(headset, { input: 'Headset', value, at: T0 }, initialToggleState());
    expect(show(result.intent)).toBe(expected);
    expect(result.reason).toBe(reason);
    if (expected !== null) expect(result.intent?.at).toBe(T0);
  });
});

describe('mapSignal: boolean normalisation', () => {
  const sw = compileMapping({ name: 'Switch', map: { on: 'DoNotDisturb/Presenting', off: 'clear' } });
  const viaField = compileMapping({ name: 'Plug', field: 'state', map: { ON: 'Busy/InACall', OFF: 'clear' } });
  const keyedByDigits = compileMapping({ name: 'Pin', map: { '1': 'Busy/InACall', '0': 'clear' } });
  it.each<[string, InputMapping, string, string | null]>([
    ['on ← true', sw, 'true', 'DoNotDisturb/Presenting'],
    ['on ← 1', sw, '1', 'DoNotDisturb/Presenting'],
    ['on ← ON', sw, 'ON', 'DoNotDisturb/Presenting'],
    ['off ← false', sw, 'false', 'clear'],
    ['off ← 0', sw, '0', 'clear'],
    ['off ← OFF', sw, 'OFF', 'clear'],
    ['not a boolean', sw, '2', null],
    ['JSON true', viaField, '{"state":true}', 'Busy/InACall'],
    ['JSON false', viaField, '{"state":false}', 'clear'],
    ['JSON 1', viaField, '{"state":1}', 'Busy/InACall'],
    ['JSON 0', viaField, '{"state":0}', 'clear'],
    ['JSON "on"', viaField, '{"state":"on"}', 'Busy/InACall'],
    ['key 1 ← on', keyedByDigits, 'on', 'Busy/InACall'],
    ['key 0 ← false', keyedByDigits, 'false', 'clear'],
  ])('%s', (_name, mapping, value, expected) => {
    expect(show(mapSignal(mapping, { input: mapping.input, value, at: T0 }, initialToggleState()).intent)).toBe(expected);
  });
});

describe('mapSignal: JSON fields', () => {
  const hook = compileMapping({ name: 'Hook', field: 'state.hook', map: { off: 'Busy/InACall', on: 'clear' } });
  const buttons = compileMapping({ name: 'Pad', field: 'buttons.1.action', map: { press: 'Busy/InAConferenceCall' } });
  const action = compileMapping({ name: 'Button', field: ' action ', map: { single: 'Away/Away' } });
  it.each<[string, InputMapping, string, string | null, string | undefined]>([
    ['nested field', hook, '{"state":{"hook":"OFF"}}', 'Busy/InACall', undefined],
    ['nested boolean', hook, '{"state":{"hook":true}}', 'clear', undefined],
    ['array index', buttons, '{"buttons":[{"action":"x"},{"action":"Press"}]}', 'Busy/InAConferenceCall', undefined],
    ['array index out of range', buttons, '{"buttons":[{"action":"press"}]}', null, 'field "buttons.1.action" not found in payload'],
    ['non-numeric index into array', compileMapping({ name: 'A', field: 'list.x', map: { a: 'clear' } }), '{"list":["a"]}', null, 'field "list.x" not found in payload'],
    ['field missing', hook, '{"state":{}}', null, 'field "state.hook" not found in payload'],
    ['parent missing', hook, '{"other":1}', null, 'field "state.hook" not found in payload'],
    ['through a scalar', hook, '{"state":"x"}', null, 'field "state.hook" not found in payload'],
    ['not JSON', hook, 'OFF', null, 'payload is not JSON (field "state.hook" expected)'],
    ['empty payload', hook, '', null, 'payload is not JSON (field "state.hook" expected)'],
    ['field is an object', hook, '{"state":{"hook":{"a":1}}}', null, 'field "state.hook" is object, not a text, number or boolean'],
    ['field is null', hook, '{"state":{"hook":null}}', null, 'field "state.hook" is null, not a text, number or boolean'],
    ['field is an array', hook, '{"state":{"hook":[1]}}', null, 'field "state.hook" is an array, not a text, number or boolean'],
    ['unknown value in field', action, '{"action":"double"}', null, 'no mapping for "double"'],
    ['trimmed field name, padded value', action, '{"action":"  SINGLE "}', 'Away/Away', undefined],
    ['inherited property is not a field', compileMapping({ name: 'P', field: 'constructor', map: { a: 'clear' } }), '{}', null, 'field "constructor" not found in payload'],
  ])('%s', (_name, mapping, value, expected, reason) => {
    const result = mapSignal(mapping, { input: mapping.input, value, at: T0 }, initialToggleState());
    expect(show(result.intent)).toBe(expected);
    expect(result.reason).toBe(reason);
  });

  it('an empty field means plain text values', () => {
    const plain = compileMapping({ name: 'Plain', field: '  ', map: { busy: 'Busy/InACall' } });
    expect(plain.field).toBeUndefined();
    expect(show(mapSignal(plain, { input: 'Plain', value: 'BUSY', at: T0 }, initialToggleState()).intent)).toBe('Busy/InACall');
  });
});

describe('mapSignal: timed intents', () => {
  const timed = compileMapping({
    name: 'Focus',
    map: { focus: { set: 'DoNotDisturb/Presenting', for: 'PT30M' }, meet: { set: 'busy / inaconferencecall', for: 'PT1H30M' }, short: { set: 'Away/Away', for: 'PT45S' } },
  });
  it.each<[string, number, string]>([
    ['focus', T0, 'DoNotDisturb/Presenting until +1800000'],
    ['focus', T0 + 60_000, 'DoNotDisturb/Presenting until +1800000'],
    ['meet', T0, 'Busy/InAConferenceCall until +5400000'],
    ['short', T0, 'Away/Away until +45000'],
  ])('%s at %i → %s', (value, at, expected) => {
    const { intent } = mapSignal(timed, { input: 'Focus', value, at }, initialToggleState());
    expect(show(intent, at)).toBe(expected);
    expect(intent?.at).toBe(at);
  });
});

describe('mapSignal: toggle', () => {
  const button = compileMapping({
    name: 'Desk button',
    field: 'action',
    map: {
      single: 'toggle',
      hold: 'DoNotDisturb/Presenting',
      double: 'Busy/InAConferenceCall',
      release: 'clear',
      focus: { set: 'Busy/InAConferenceCall', for: 'PT10M' },
      away: { set: 'Away/Away', for: 'PT10M' },
    },
    toggle: ['Busy/InACall', 'Busy/InAConferenceCall'],
  });
  const press = (v: string) => JSON.stringify({ action: v });

  it.each<[string, string[], (string | null)[]]>([
    ['cycles through the list, then clear, then the first again', ['single', 'single', 'single', 'single', 'single', 'single', 'single'],
      ['Busy/InACall', 'Busy/InAConferenceCall', 'clear', 'Busy/InACall', 'Busy/InAConferenceCall', 'clear', 'Busy/InACall']],
    ['a set to a listed pair puts the cycle there', ['double', 'single', 'single'], ['Busy/InAConferenceCall', 'clear', 'Busy/InACall']],
    ['a set to a pair outside the list: next toggle clears', ['hold', 'single', 'single'], ['DoNotDisturb/Presenting', 'clear', 'Busy/InACall']],
    ['clear resets the cycle', ['single', 'single', 'release', 'single'], ['Busy/InACall', 'Busy/InAConferenceCall', 'clear', 'Busy/InACall']],
    ['clear from the start keeps the start', ['release', 'single'], ['clear', 'Busy/InACall']],
    ['an unknown value leaves the cycle alone', ['single', 'bogus', 'single'], ['Busy/InACall', null, 'Busy/InAConferenceCall']],
    ['a JSON error leaves the cycle alone', ['single', '{oops', 'single'], ['Busy/InACall', null, 'Busy/InAConferenceCall']],
    ['a timed set to a listed pair moves the cycle while it lasts', ['focus', 'single'], ['Busy/InAConferenceCall until +600000', 'clear']],
  ])('%s', (_name, values, expected) => {
    let toggle = initialToggleState();
    const got = values.map((v, i) => {
      const at = T0 + i * 1000;
      const r = mapSignal(button, { input: 'Desk button', value: v.startsWith('{') ? v : press(v), at }, toggle);
      toggle = r.toggle;
      return show(r.intent, at);
    });
    expect(got).toEqual(expected);
  });

  it.each<[string, string, number, string]>([
    ['listed timed pair (the last) still running → clears', 'focus', 10 * 60_000 - 1, 'clear'],
    ['listed timed pair ended → starts again at the first', 'focus', 10 * 60_000, 'Busy/InACall'],
    ['unlisted timed pair still running → clears', 'away', 5 * 60_000, 'clear'],
    ['unlisted timed pair ended → starts at the first', 'away', 11 * 60_000, 'Busy/InACall'],
  ])('%s', (_name, first, later, expected) => {
    const a = mapSignal(button, { input: 'Desk button', value: press(first), at: T0 }, initialToggleState());
    const b = mapSignal(button, { input: 'Desk button', value: press('single'), at: T0 + later }, a.toggle);
    expect(show(b.intent)).toBe(expected);
  });

  it('a single-entry toggle list alternates set and clear', () => {
    const one = compileMapping({ name: 'B', map: { x: 'TOGGLE' }, toggle: ['Busy/InACall'] });
    expect(run(one, ['x', 'x', 'x', 'x'])).toEqual(['Busy/InACall', 'clear', 'Busy/InACall', 'clear']);
  });

  it('toggle intents carry the signal time and no until', () => {
    const r = mapSignal(button, { input: 'Desk button', value: press('single'), at: T0 + 5 }, initialToggleState());
    expect(r.intent).toEqual({ kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at: T0 + 5 });
  });
});

describe('compileMapping rejects invalid config', () => {
  it.each<[string, MappingInput, RegExp, MappingErrorCode]>([
    ['unknown pair', { name: 'I', map: { a: 'Busy/Lunch' } }, /input "I", map value "a": "Busy\/Lunch" is not clear, toggle or a presence setPresence accepts \(Available\/Available, Busy\/InACall/, 'UNKNOWN_PRESENCE'],
    ['preferred-only pair', { name: 'I', map: { a: 'Busy/Busy' } }, /"Busy\/Busy" is not/, 'UNKNOWN_PRESENCE'],
    ['toggle without a list', { name: 'I', map: { a: 'toggle' } }, /"toggle" needs a non-empty toggle list/, 'TOGGLE_WITHOUT_LIST'],
    ['toggle with an empty list', { name: 'I', map: { a: 'toggle' }, toggle: [] }, /"toggle" needs a non-empty toggle list/, 'TOGGLE_WITHOUT_LIST'],
    ['bad toggle entry', { name: 'I', map: { a: 'toggle' }, toggle: ['Busy/InACall', 'clear'] }, /toggle\[1\]: "clear" is not a presence/, 'UNKNOWN_PRESENCE'],
    ['timed with bad pair', { name: 'I', map: { a: { set: 'Nope', for: 'PT5M' } } }, /"Nope" is not a presence/, 'UNKNOWN_PRESENCE'],
    ['timed with bad duration', { name: 'I', map: { a: { set: 'Busy/InACall', for: '30 minutes' } } }, /"30 minutes" is not a positive ISO 8601 duration/, 'BAD_DURATION'],
    ['timed with zero duration', { name: 'I', map: { a: { set: 'Busy/InACall', for: 'PT0S' } } }, /"PT0S" is not a positive/, 'BAD_DURATION'],
    ['timed longer than a day', { name: 'I', map: { a: { set: 'Busy/InACall', for: 'P30D' } } }, /"for" of "P30D" is longer than the P1D limit/, 'HOLD_TOO_LONG'],
    ['keys equal after normalising case', { name: 'I', map: { OFFHOOK: 'clear', offhook: 'Busy/InACall' } }, /map values "OFFHOOK" and "offhook" mean the same value/, 'DUPLICATE_VALUE'],
    ['keys equal as booleans', { name: 'I', map: { on: 'clear', '1': 'Busy/InACall' } }, /mean the same value/, 'DUPLICATE_VALUE'],
    ['empty field part', { name: 'I', field: 'a..b', map: { a: 'clear' } }, /field "a..b" has an empty part/, 'EMPTY_FIELD_PART'],
    ['no name', { name: ' ', map: {} }, /without a name/, 'NO_NAME'],
    ['not a map entry', { name: 'I', map: { a: 42 as unknown as string } }, /expected a presence, clear, toggle or/, 'BAD_ENTRY'],
  ])('%s', (_name, input, message, code) => {
    expect(() => compileMapping(input)).toThrow(message);
    const error = (() => {
      try {
        compileMapping(input);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MappingError);
    expect(error).toBeInstanceOf(BridgeError);
    expect(error).toMatchObject({ code, name: 'MappingError' });
  });

  it('accepts canonical and loosely written pairs and words', () => {
    const m = compileMapping({ name: 'I', map: { a: 'busy/inacall', b: ' Clear ', c: 'Available / Available' } });
    expect(run(m, ['a', 'b', 'c'])).toEqual(['Busy/InACall', 'clear', 'Available/Available']);
  });
});

describe('describeMapping', () => {
  it('says what each value does, with the configured spelling', () => {
    const m = compileMapping({
      name: 'I',
      map: { Single: 'toggle', OFFHOOK: 'Busy/InACall', ONHOOK: 'clear', focus: { set: 'DoNotDisturb/Presenting', for: 'PT30M' } },
      toggle: ['Busy/InACall', 'Away/Away'],
    });
    expect(describeMapping(m)).toEqual([
      { value: 'Single', does: 'toggle: Busy/InACall → Away/Away → clear' },
      { value: 'OFFHOOK', does: 'Busy/InACall' },
      { value: 'ONHOOK', does: 'clear' },
      { value: 'focus', does: 'DoNotDisturb/Presenting for PT30M' },
    ]);
  });
});
