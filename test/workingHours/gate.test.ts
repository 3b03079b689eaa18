import { describe, expect, it } from 'vitest';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import type { ConfigReport, GateInput } from '../../src/feature.js';
import type { ActiveIntent } from '../../src/presence/presenceArbiter.js';
import type { SessionAvailability } from '../../src/presence/presencePair.js';
import { ManualClock } from '../../src/shared/clock.js';
import { OUTSIDE_NOTE, WorkingHoursGate, workingHoursFeature } from '../../src/workingHours/index.js';

const MON_10 = Date.parse('2026-01-05T09:00:00Z'); // Mon 10:00 in Berlin
const MON_20 = Date.parse('2026-01-05T19:00:00Z'); // Mon 20:00 in Berlin

function intent(input: string, availability: SessionAvailability, activity: string): ActiveIntent {
  return { input, pair: { availability, activity }, at: MON_10 };
}

function gateInput(intents: ActiveIntent[], userKey = 'alice'): GateInput {
  const best = intents[0];
  return { userKey, desired: best ? { availability: best.pair.availability, activity: best.pair.activity } : null, source: best?.input ?? null, intents };
}

/** A config as the registry hands it over (the feature's fields merged into users and inputs). */
function config(extra: Record<string, unknown>, users: Record<string, unknown>[] = [{ key: 'alice', id: 'a' }], inputs: Record<string, unknown>[] = []): PresenceBridgeConfig {
  return { users, inputs, outputs: [], ...extra } as unknown as PresenceBridgeConfig;
}

const SECTION = { timeZone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] };

function gateFor(cfg: PresenceBridgeConfig): WorkingHoursGate {
  const slice = workingHoursFeature.select(cfg);
  if (!slice) throw new Error('expected a slice');
  const clock = new ManualClock(MON_10);
  const gates = workingHoursFeature.gates?.(slice, { clock, config: cfg, logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } }) ?? [];
  return gates[0] as WorkingHoursGate;
}

describe('working hours gate', () => {
  const inputs = [{ type: 'mqtt', name: 'hook', topic: 't' }, { type: 'mqtt', name: 'dnd-button', topic: 'u', workingHoursExempt: true }];
  const gate = gateFor(config({ workingHours: { ...SECTION, exemptInputs: ['homekit'] } }, undefined, inputs));
  const busy = intent('hook', 'Busy', 'InACall');
  const dnd = intent('dnd-button', 'DoNotDisturb', 'Presenting');
  const away = intent('homekit', 'Away', 'Away');

  it.each([
    { name: 'inside hours everything passes', now: MON_10, intents: [busy], expected: { desired: busy.pair, source: 'hook', note: null } },
    { name: 'outside hours a non-exempt input is dropped and the session cleared', now: MON_20, intents: [busy], expected: { desired: null, source: null, note: OUTSIDE_NOTE } },
    { name: 'outside hours an exempt winner passes untouched', now: MON_20, intents: [dnd, busy], expected: { desired: dnd.pair, source: 'dnd-button', note: null } },
    { name: 'outside hours the best exempt intent wins below a dropped one', now: MON_20, intents: [busy, away], expected: { desired: away.pair, source: 'homekit', note: OUTSIDE_NOTE } },
    { name: 'outside hours with nothing wanted there is nothing to note', now: MON_20, intents: [], expected: { desired: null, source: null, note: null } },
  ])('$name', ({ now, intents, expected }) => {
    const result = gate.apply(gateInput(intents), now);
    expect(result).toEqual({ ...expected, desired: expected.desired ? { availability: expected.desired.availability, activity: expected.desired.activity } : null });
  });

  it('lets inputs work outside hours with outside: inputsWork, and never gates a user without hours', () => {
    const cfg = config({ workingHours: { ...SECTION, outside: 'inputsWork' } }, [{ key: 'alice', id: 'a' }, { key: 'bob', id: 'b', workingHours: { enabled: false } }]);
    const g = gateFor(cfg);
    expect(g.apply(gateInput([busy]), MON_20)).toEqual({ desired: busy.pair, source: 'hook', note: null });
    expect(g.apply(gateInput([busy], 'bob'), MON_20)).toEqual({ desired: busy.pair, source: 'hook', note: null });
    expect(g.nextChangeAt('bob', MON_20)).toBeNull();
    expect(new Date(g.nextChangeAt('alice', MON_20)!).toISOString()).toBe('2026-01-06T08:00:00.000Z');
  });

  it('takes a user override field by field: another zone, the same windows', () => {
    const g = gateFor(config({ workingHours: SECTION }, [{ key: 'alice', id: 'a' }, { key: 'nick', id: 'n', workingHours: { timeZone: 'America/New_York' } }]));
    // Mon 20:00 in Berlin is 14:00 in New York
    expect(g.apply(gateInput([busy], 'alice'), MON_20).note).toBe(OUTSIDE_NOTE);
    expect(g.apply(gateInput([busy], 'nick'), MON_20).note).toBeNull();
    expect(new Date(g.nextChangeAt('nick', MON_20)!).toISOString()).toBe('2026-01-05T22:00:00.000Z');
  });

  it('gives the next edge after a clock jump, forwards and back', async () => {
    const g = gateFor(config({ workingHours: SECTION }));
    const clock = new ManualClock(MON_10);
    expect(new Date(g.nextChangeAt('alice', clock.now())!).toISOString()).toBe('2026-01-05T16:00:00.000Z');
    await clock.advance(4 * 86_400_000 + 12 * 3_600_000); // Fri 22:00 Berlin: jumped past several edges
    expect(new Date(g.nextChangeAt('alice', clock.now())!).toISOString()).toBe('2026-01-12T08:00:00.000Z');
    // a system clock corrected backwards: the cached edge must not be reused
    expect(new Date(g.nextChangeAt('alice', MON_10 - 3_600_000)!).toISOString()).toBe('2026-01-05T16:00:00.000Z');
  });

  it('is not selected without working hours, and reports bad config with its path', () => {
    expect(workingHoursFeature.select(config({}))).toBeNull();
    const errors: string[] = [];
    const report: ConfigReport = { error: (path, message) => errors.push(`${path}: ${message}`), warning: () => {} };
    workingHoursFeature.check?.(
      config({ workingHours: { timeZone: 'Mars/Olympus', windows: [{ from: '9:00', to: '17:00' }] } }, [{ key: 'alice', id: 'a' }, { key: 'bob', id: 'b', workingHours: { outside: 'clear' } }]),
      report,
    );
    expect(errors).toEqual([
      expect.stringMatching(/^workingHours\.timeZone: not an IANA time zone/),
      expect.stringMatching(/^workingHours\.windows\.0\.from: use HH:MM/),
      'users[1].workingHours: needs timeZone and windows (or a workingHours section to take them from)',
    ]);
  });
});
