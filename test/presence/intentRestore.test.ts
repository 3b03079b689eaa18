import { describe, expect, it } from 'vitest';
import { aliveStampIntervalMs, planRestore, type StoredIntent } from '../../src/presence/intentRestore.js';
import { formatPresence, parseSessionPair } from '../../src/presence/presencePair.js';
import { ManualClock } from '../../src/shared/clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const LIMIT = HOUR; // graph.expiration PT1H

function stored(user: string, input: string, pair: string, at: number, until?: number): StoredIntent {
  const p = parseSessionPair(pair);
  if (!p) throw new Error(`bad pair in test: ${pair}`);
  return until === undefined ? { user, input, pair: p, at } : { user, input, pair: p, at, until };
}

const show = (i: StoredIntent): string => `${i.user}/${i.input}:${formatPresence(i.pair)}${i.until === undefined ? '' : ` until +${(i.until - T0) / MIN}m`}`;

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const CONFIGURED = new Set(['alex/desk', 'alex/mqtt-command', 'alex/homekit', 'sam/hook']);
const stillDrives = (user: string, input: string): boolean => CONFIGURED.has(`${user}/${input}`);

describe('planRestore: which stored intents come back after a restart (moved clock)', () => {
  // [what, records (offsets in minutes from T0), alive stamp offset, minutes the clock moves (the down time), restored, dropped]
  const table: [string, StoredIntent[], number | undefined, number, string[], string[]][] = [
    ['a plain set held before a crash comes back', [stored('alex', 'desk', 'Busy/InACall', T0)], 0, 1, ['alex/desk:Busy/InACall'], []],
    [
      'a held intent set hours ago comes back when the bridge was alive until just before',
      [stored('alex', 'desk', 'Busy/InACall', T0)],
      5 * 60,
      5 * 60 + 2,
      ['alex/desk:Busy/InACall'],
      [],
    ],
    ['a timed intent keeps its original end', [stored('alex', 'mqtt-command', 'DoNotDisturb/Presenting', T0, T0 + 30 * MIN)], 0, 10, ['alex/mqtt-command:DoNotDisturb/Presenting until +30m'], []],
    ['a timed intent whose end passed while down is dropped', [stored('alex', 'mqtt-command', 'DoNotDisturb/Presenting', T0, T0 + 30 * MIN)], 0, 31, [], ['ended']],
    ['a timed intent ending exactly now is dropped', [stored('alex', 'mqtt-command', 'DoNotDisturb/Presenting', T0, T0 + 30 * MIN)], 0, 30, [], ['ended']],
    ['down exactly the limit: restored', [stored('alex', 'desk', 'Busy/InACall', T0)], 0, 60, ['alex/desk:Busy/InACall'], []],
    ['down longer than the limit (a day): dropped', [stored('alex', 'desk', 'Busy/InACall', T0)], 0, 24 * 60, [], ['too-old']],
    ['down one minute past the limit: dropped', [stored('alex', 'desk', 'Busy/InACall', T0)], 0, 61, [], ['too-old']],
    ['no alive stamp: the intent\'s own time counts', [stored('alex', 'desk', 'Busy/InACall', T0)], undefined, 61, [], ['too-old']],
    ['an intent newer than the stamp counts from its own time', [stored('alex', 'desk', 'Busy/InACall', T0 + 30 * MIN)], 0, 80, ['alex/desk:Busy/InACall'], []],
    ['an input no longer configured is dropped', [stored('alex', 'gone', 'Busy/InACall', T0)], 0, 1, [], ['not-configured']],
    ['an input now driving another user is dropped', [stored('sam', 'desk', 'Busy/InACall', T0)], 0, 1, [], ['not-configured']],
    [
      'several inputs and users, each decided alone',
      [
        stored('alex', 'desk', 'Busy/InACall', T0),
        stored('alex', 'homekit', 'DoNotDisturb/Presenting', T0 + MIN),
        stored('alex', 'mqtt-command', 'Away/Away', T0, T0 + 2 * MIN),
        stored('sam', 'hook', 'Busy/InAConferenceCall', T0),
      ],
      3,
      5,
      ['alex/desk:Busy/InACall', 'alex/homekit:DoNotDisturb/Presenting', 'sam/hook:Busy/InAConferenceCall'],
      ['ended'],
    ],
    ['the same input twice: the later one wins', [stored('alex', 'desk', 'Away/Away', T0 + 2 * MIN), stored('alex', 'desk', 'Busy/InACall', T0)], 2, 3, ['alex/desk:Away/Away'], []],
  ];
  for (const [what, records, alive, downMinutes, restored, dropped] of table) {
    it(what, async () => {
      const clock = new ManualClock(T0);
      await clock.advance(downMinutes * MIN);
      const plan = planRestore(records, { now: clock.now(), aliveAt: alive === undefined ? undefined : T0 + alive * MIN, maxDownMs: LIMIT, stillDrives });
      expect(plan.restore.map(show)).toEqual(restored);
      expect(plan.dropped.map((d) => d.reason)).toEqual(dropped);
    });
  }

  it('keeps a restored intent\'s toggle position', () => {
    const intent: StoredIntent = { ...stored('alex', 'desk', 'Busy/InACall', T0), toggle: { position: 0 } };
    expect(planRestore([intent], { now: T0 + MIN, aliveAt: T0, maxDownMs: LIMIT, stillDrives }).restore[0]?.toggle).toEqual({ position: 0 });
  });
});

describe('aliveStampIntervalMs', () => {
  it('is a sixth of the limit (10 min for PT1H, 50 s for PT5M), never below a second', () => {
    expect(aliveStampIntervalMs(HOUR)).toBe(10 * MIN);
    expect(aliveStampIntervalMs(5 * MIN)).toBe(50_000);
    expect(aliveStampIntervalMs(100)).toBe(1_000);
  });
});
