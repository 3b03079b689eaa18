import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EXIT } from '../../src/cli/command.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { statePayload } from '../../src/mqtt/stateTopics.js';
import { DAYS } from '../../src/workingHours/schedule.js';
import { configFor, tempDir, testIo, writeConfigFile } from '../graph/helpers.js';
import { userState } from '../helpers/userState.js';

describe('surfaces that say "outside working hours"', () => {
  let emulator: Emulator;
  let dir: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    emulator = await startEmulator();
    dir = await tempDir('pb-hours-');
  });
  afterAll(async () => {
    await emulator.close();
    await dir.remove();
  });

  it('the MQTT state payload carries the gate note only while a gate holds inputs back', () => {
    expect(JSON.parse(statePayload(userState('alex', { gated: { gate: 'workingHours', note: 'outside working hours' } })))).toMatchObject({ gated: 'outside working hours' });
    expect(JSON.parse(statePayload(userState('alex', { gated: null })))).not.toHaveProperty('gated');
  });

  it('status shows whether each user with working hours is outside them, and until when (real clock, real CLI, emulator)', async () => {
    // a one-hour window three days from today (UTC): closed now whatever the time of day
    const today = (new Date().getUTCDay() + 6) % 7; // 0 = Monday
    const day = DAYS[(today + 3) % 7]!;
    const base = configFor(emulator) as unknown as Record<string, unknown>;
    const users = (base.users as { key: string; id: string }[]).map((u, i) => (i === 0 ? { ...u, workingHours: { enabled: true } } : { ...u, workingHours: { enabled: false } }));
    const file = await writeConfigFile(dir.path, { ...base, users, workingHours: { timeZone: 'Etc/UTC', windows: [{ days: [day], from: '10:00', to: '11:00' }] } });
    const io = testIo();
    expect(await main(['status', '--config', file], io)).toBe(EXIT.ok);
    const next = new Date();
    next.setUTCDate(next.getUTCDate() + 3);
    next.setUTCHours(10, 0, 0, 0);
    expect(io.stdout.text).toMatch(new RegExp(`^alex\\s+\\S+/\\S+  \\(outside working hours until ${next.toISOString()}\\)$`, 'm'));
    expect(io.stdout.text).toMatch(/^megan\s+\S+\/\S+$/m);
    const json = testIo();
    expect(await main(['status', '--config', file, '--json'], json)).toBe(EXIT.ok);
    const rows = JSON.parse(json.stdout.text) as { key: string; workingHours?: unknown }[];
    expect(rows.find((r) => r.key === 'alex')?.workingHours).toEqual({ open: false, nextChangeAt: next.toISOString() });
    expect(rows.find((r) => r.key === 'megan')).not.toHaveProperty('workingHours');
  });
});
