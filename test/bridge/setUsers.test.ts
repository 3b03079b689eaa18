import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_LEDGER_FILE } from '../../src/session/sessionLedger.js';
import { Harness, MINUTE } from './harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('setUsers: users added and removed at runtime (fleet, issue 19), on the emulator', () => {
  it('a new user is served at once; a removed one has their session cleared, leaves the ledger and is read back no more', async () => {
    harness = await Harness.create({ graph: { pollSeconds: 60 } });
    const h = harness;
    const u0 = h.config.users[0]!;
    const newcomer = { key: 'u1', id: h.emulator.users[1]!.id };
    await h.signal('desk', 'busy');
    expect(h.presenceOf('u0')).toBe('Busy/InACall');

    h.bridge.setUsers([u0, newcomer]);
    expect(h.bridge.states().map((s) => s.userKey)).toEqual(['u0', 'u1']);
    h.bridge.setIntent('u1', 'homekit', { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at: h.clock.now() });
    await h.settle();
    expect(h.emulator.presenceOf(newcomer.id)).toMatchObject({ availability: 'DoNotDisturb', activity: 'Presenting' });

    h.bridge.setUsers([newcomer]);
    await h.settle();
    expect(h.bridge.states().map((s) => s.userKey)).toEqual(['u1']);
    expect(h.presenceOf('u0')).toBe('Offline/Offline'); // our session of u0 was cleared
    expect(h.emulator.sessionsOf(u0.id)).toEqual([]);
    expect(h.logger.lines).toContain('info u0 is no longer served; clearing their session');
    // inputs of the removed user no longer reach Graph
    const mark = h.emulator.requestLog().length;
    await h.signal('desk', 'free');
    expect(h.emulator.requestLog().slice(mark).filter((e) => e.route.includes(encodeURIComponent(u0.id)) || e.route.includes(u0.id))).toEqual([]);
    // read-back polls the users served now only
    h.emulator.clearRequestLog();
    await h.advance(MINUTE);
    const polled = h.emulator.requestLog().filter((e) => e.route === '/communications/getPresencesByUserId');
    expect(polled.length).toBeGreaterThan(0);
    for (const poll of polled) expect((poll.body as { ids: string[] }).ids).toEqual([newcomer.id]);
    await h.bridge.stop();
    const ledger = JSON.parse(await readFile(join(h.storage, SESSION_LEDGER_FILE), 'utf8')) as { users: string[] };
    expect(ledger.users).not.toContain(u0.id);
  });
});
