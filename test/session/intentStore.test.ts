import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { INTENT_STORE_FILE, IntentStore } from '../../src/session/intentStore.js';
import { capturingLogger, type CapturingLogger } from '../helpers/logger.js';

const BUSY = { availability: 'Busy', activity: 'InACall' } as const;
const DND = { availability: 'DoNotDisturb', activity: 'Presenting' } as const;

let dir: string;
let clock: ManualClock;
let logger: CapturingLogger;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pb-intents-'));
  clock = new ManualClock();
  logger = capturingLogger();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('IntentStore', () => {
  it('records synchronously and writes after the caller returned: nothing touches the disk on the signal path', async () => {
    const store = new IntentStore(dir, clock, logger);
    store.record('alex', 'desk', { kind: 'set', pair: BUSY, at: clock.now() });
    expect(existsSync(store.file)).toBe(false);
    await store.flush();
    expect(existsSync(store.file)).toBe(true);
  });

  it('coalesces a burst into what was recorded last, written mode 0600 by temp file and rename', async () => {
    const store = new IntentStore(dir, clock, logger);
    for (let i = 0; i < 100; i++) store.record('alex', 'desk', { kind: 'set', pair: i % 2 ? DND : BUSY, at: clock.now() + i });
    store.record('alex', 'homekit', { kind: 'set', pair: BUSY, at: clock.now() });
    store.record('alex', 'homekit', { kind: 'clear', at: clock.now() });
    await store.flush();
    const body = JSON.parse(await readFile(store.file, 'utf8')) as { version: number; aliveAt: number; intents: unknown[] };
    expect(body).toEqual({ version: 1, aliveAt: clock.now(), intents: [{ user: 'alex', input: 'desk', pair: 'DoNotDisturb/Presenting', at: clock.now() + 99 }] });
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([INTENT_STORE_FILE]); // no temporary file left
  });

  it('round-trips a timed intent and a toggle position; the alive stamp is the time of the write', async () => {
    const store = new IntentStore(dir, clock, logger);
    const at = clock.now();
    store.record('alex', 'desk', { kind: 'set', pair: BUSY, at }, { position: 0 });
    store.record('sam', 'mqtt-command', { kind: 'set', pair: DND, at, until: at + 30 * 60_000 });
    await store.flush();
    await clock.advance(10 * 60_000);
    store.touch();
    await store.flush();
    const loaded = await new IntentStore(dir, clock, logger).load();
    expect(loaded.aliveAt).toBe(at + 10 * 60_000);
    expect(loaded.intents).toEqual([
      { user: 'alex', input: 'desk', pair: BUSY, at, toggle: { position: 0 } },
      { user: 'sam', input: 'mqtt-command', pair: DND, at, until: at + 30 * 60_000 },
    ]);
  });

  it('skips unreadable records with a warning, ignores a broken file, and treats a missing one as empty', async () => {
    const store = new IntentStore(dir, clock, logger);
    expect(await store.load()).toEqual({ intents: [], aliveAt: undefined });
    await writeFile(store.file, JSON.stringify({ version: 1, aliveAt: 5, intents: [{ user: 'alex', input: 'desk', pair: 'Busy/InACall', at: 1 }, { user: 'alex', input: 'x', pair: 'Offline/OffWork', at: 1 }, null] }));
    const loaded = await store.load();
    expect(loaded).toEqual({ aliveAt: 5, intents: [{ user: 'alex', input: 'desk', pair: BUSY, at: 1 }] });
    expect(logger.texts()).toContain(`warn ${store.file}: skipped 2 unreadable intent(s)`);
    await writeFile(store.file, '{"intents": [');
    expect(await store.load()).toEqual({ intents: [], aliveAt: undefined });
    expect(logger.texts().some((l) => l.startsWith(`warn ignoring ${store.file}`))).toBe(true);
  });

  it('adopting restored intents keeps one recorded meanwhile and drops the rest from the file', async () => {
    const store = new IntentStore(dir, clock, logger);
    store.record('alex', 'desk', { kind: 'set', pair: DND, at: 10 });
    store.adopt([
      { user: 'alex', input: 'desk', pair: BUSY, at: 1 },
      { user: 'sam', input: 'homekit', pair: BUSY, at: 1 },
    ]);
    await store.flush();
    const loaded = await store.load();
    expect(loaded.intents).toEqual([
      { user: 'alex', input: 'desk', pair: DND, at: 10 },
      { user: 'sam', input: 'homekit', pair: BUSY, at: 1 },
    ]);
    expect(store.has('sam', 'homekit')).toBe(true);
    store.forget('sam', 'homekit');
    expect(store.size).toBe(1);
    await store.flush(); // the forget's write, before afterEach removes the folder
  });
});
