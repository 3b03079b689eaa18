import { describe, expect, it } from 'vitest';
import { PRECEDENCE, PresenceArbiter } from '../../src/presence/presenceArbiter.js';
import type { DesiredState, Intent } from '../../src/presence/intent.js';
import { formatPresence, parseSessionPair } from '../../src/presence/presencePair.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;

/** `[input, "Busy/InACall" | "clear", at offset, until offset?]` */
type Step = readonly [input: string, what: string, at: number, until?: number];

function intent([, what, at, until]: Step): Intent {
  if (what === 'clear') return { kind: 'clear', at: T0 + at };
  const pair = parseSessionPair(what);
  if (!pair) throw new Error(`bad pair in test: ${what}`);
  return until === undefined ? { kind: 'set', pair, at: T0 + at } : { kind: 'set', pair, at: T0 + at, until: T0 + until };
}

function show(state: DesiredState): string {
  return state.kind === 'clear' ? 'clear' : `${formatPresence(state.pair)} from ${state.source}`;
}

function arbiterWith(steps: readonly Step[]): PresenceArbiter {
  const arbiter = new PresenceArbiter();
  for (const step of steps) arbiter.update(step[0], intent(step));
  return arbiter;
}

describe('PRECEDENCE', () => {
  it('follows Graph: DoNotDisturb > Busy > Available > Away', () => {
    expect(PRECEDENCE).toEqual(['DoNotDisturb', 'Busy', 'Available', 'Away']);
  });
});

describe('PresenceArbiter.resolve', () => {
  it.each<[string, Step[], number, string]>([
    ['nothing asserted', [], 0, 'clear'],
    ['one input', [['hook', 'Busy/InACall', 0]], 1, 'Busy/InACall from hook'],
    ['DoNotDisturb beats a later Busy', [['btn', 'DoNotDisturb/Presenting', 0], ['hook', 'Busy/InACall', 5]], 6, 'DoNotDisturb/Presenting from btn'],
    ['Busy beats a later Available', [['hook', 'Busy/InACall', 0], ['ha', 'Available/Available', 5]], 6, 'Busy/InACall from hook'],
    ['Available beats a later Away', [['ha', 'Available/Available', 0], ['pir', 'Away/Away', 5]], 6, 'Available/Available from ha'],
    ['DoNotDisturb beats Away', [['pir', 'Away/Away', 9], ['btn', 'DoNotDisturb/Presenting', 1]], 10, 'DoNotDisturb/Presenting from btn'],
    ['most recent among equals (later at)', [['hook', 'Busy/InACall', 5], ['cal', 'Busy/InAConferenceCall', 3]], 6, 'Busy/InACall from hook'],
    ['most recent among equals (other order)', [['hook', 'Busy/InACall', 3], ['cal', 'Busy/InAConferenceCall', 5]], 6, 'Busy/InAConferenceCall from cal'],
    ['same at: the later update wins', [['hook', 'Busy/InACall', 5], ['cal', 'Busy/InAConferenceCall', 5]], 6, 'Busy/InAConferenceCall from cal'],
    ['same at, reversed updates', [['cal', 'Busy/InAConferenceCall', 5], ['hook', 'Busy/InACall', 5]], 6, 'Busy/InACall from hook'],
    ['an input replaces its own intent', [['btn', 'DoNotDisturb/Presenting', 0], ['btn', 'Away/Away', 5]], 6, 'Away/Away from btn'],
    ['clear drops the input out', [['btn', 'DoNotDisturb/Presenting', 0], ['hook', 'Busy/InACall', 1], ['btn', 'clear', 2]], 3, 'Busy/InACall from hook'],
    ['all cleared → clear', [['btn', 'Busy/InACall', 0], ['btn', 'clear', 1]], 2, 'clear'],
    ['clear of another input changes nothing', [['btn', 'Busy/InACall', 0], ['hook', 'clear', 1]], 2, 'Busy/InACall from btn'],
    ['timed intent active just before until', [['focus', 'DoNotDisturb/Presenting', 0, 30 * MIN], ['hook', 'Busy/InACall', 1]], 30 * MIN - 1, 'DoNotDisturb/Presenting from focus'],
    ['timed intent gone at until', [['focus', 'DoNotDisturb/Presenting', 0, 30 * MIN], ['hook', 'Busy/InACall', 1]], 30 * MIN, 'Busy/InACall from hook'],
    ['timed intent gone after until, nothing else', [['focus', 'DoNotDisturb/Presenting', 0, 30 * MIN]], 31 * MIN, 'clear'],
    ['expired timed intent does not win a tie', [['a', 'Busy/InACall', 0], ['b', 'Busy/InAConferenceCall', 5, 10]], 10, 'Busy/InACall from a'],
    ['untimed set replaces a timed one of the same input', [['btn', 'DoNotDisturb/Presenting', 0, 10], ['btn', 'Busy/InACall', 5]], 20, 'Busy/InACall from btn'],
  ])('%s', (_name, steps, now, expected) => {
    expect(show(arbiterWith(steps).resolve(T0 + now))).toBe(expected);
  });

  it('carries until for a timed winner', () => {
    const a = arbiterWith([['focus', 'DoNotDisturb/Presenting', 0, 30 * MIN]]);
    expect(a.resolve(T0 + MIN)).toEqual({ kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, source: 'focus', until: T0 + 30 * MIN });
  });

  it('resolve does not depend on call order or on time passing through', () => {
    const a = arbiterWith([['focus', 'DoNotDisturb/Presenting', 0, 10 * MIN], ['hook', 'Busy/InACall', 1]]);
    expect(show(a.resolve(T0 + 20 * MIN))).toBe('Busy/InACall from hook');
    // Asking about an earlier time still sees the timed intent: nothing was mutated.
    expect(show(a.resolve(T0 + 5 * MIN))).toBe('DoNotDisturb/Presenting from focus');
  });
});

describe('PresenceArbiter.clearInput, prune, activeIntents, nextChangeAt', () => {
  it('clearInput forgets an input', () => {
    const a = arbiterWith([['serial', 'DoNotDisturb/Presenting', 0], ['mqtt', 'Busy/InACall', 1]]);
    a.clearInput('serial');
    expect(show(a.resolve(T0 + 2))).toBe('Busy/InACall from mqtt');
    a.clearInput('mqtt');
    a.clearInput('never-seen');
    expect(show(a.resolve(T0 + 2))).toBe('clear');
  });

  it('activeIntents lists the active ones, highest first, most recent first among equals', () => {
    const a = arbiterWith([
      ['pir', 'Away/Away', 0],
      ['hook', 'Busy/InACall', 1],
      ['focus', 'DoNotDisturb/Presenting', 2, 10],
      ['cal', 'Busy/InAConferenceCall', 3],
    ]);
    expect(a.activeIntents(T0 + 5).map((i) => `${i.input}:${formatPresence(i.pair)}`)).toEqual([
      'focus:DoNotDisturb/Presenting',
      'cal:Busy/InAConferenceCall',
      'hook:Busy/InACall',
      'pir:Away/Away',
    ]);
    expect(a.activeIntents(T0 + 10).map((i) => i.input)).toEqual(['cal', 'hook', 'pir']);
    expect(a.activeIntents(T0 + 5)[0]).toEqual({ input: 'focus', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at: T0 + 2, until: T0 + 10 });
  });

  it.each<[string, Step[], number, number | undefined]>([
    ['none timed', [['a', 'Busy/InACall', 0]], 0, undefined],
    ['nothing at all', [], 0, undefined],
    ['one timed', [['a', 'Busy/InACall', 0, 30 * MIN]], 0, 30 * MIN],
    ['earliest of several', [['a', 'Busy/InACall', 0, 30 * MIN], ['b', 'Away/Away', 0, 10 * MIN], ['c', 'DoNotDisturb/Presenting', 0, 20 * MIN]], 0, 10 * MIN],
    ['past ones skipped', [['a', 'Busy/InACall', 0, 30 * MIN], ['b', 'Away/Away', 0, 10 * MIN]], 10 * MIN, 30 * MIN],
    ['all past', [['a', 'Busy/InACall', 0, 30 * MIN]], 30 * MIN, undefined],
    ['cleared timed intent no longer counts', [['a', 'Busy/InACall', 0, 30 * MIN], ['a', 'clear', 1]], 2, undefined],
  ])('nextChangeAt: %s', (_name, steps, now, expected) => {
    expect(arbiterWith(steps).nextChangeAt(T0 + now)).toBe(expected === undefined ? undefined : T0 + expected);
  });

  it('prune drops ended timed intents only', () => {
    const a = arbiterWith([['a', 'Busy/InACall', 0, 10], ['b', 'Away/Away', 0]]);
    a.prune(T0 + 10);
    // Even when asked about an earlier time, the pruned intent is gone.
    expect(a.activeIntents(T0 + 5).map((i) => i.input)).toEqual(['b']);
  });
});
