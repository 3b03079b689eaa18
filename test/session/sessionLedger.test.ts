import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, watch } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { yieldToEventLoop } from '../../src/shared/clock.js';
import { SESSION_LEDGER_FILE } from '../../src/session/sessionLedger.js';
import { WRITE_SPACING_MS } from '../../src/files/coalescedWrites.js';
import { INTENT_STORE_FILE } from '../../src/session/intentStore.js';
import { createBridge, STARTUP_GRACE_MS } from '../../src/bridge.js';
import { HOUR, Harness } from '../helpers/harness.js';
import { capturingLogger } from '../helpers/logger.js';

/** The users the ledger file on disk lists right now (read synchronously, on the main thread). */
function ledgerFile(storage: string): unknown {
  try {
    return JSON.parse(readFileSync(join(storage, SESSION_LEDGER_FILE), 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function ledgerOnDisk(storage: string): string[] {
  try {
    return (JSON.parse(readFileSync(join(storage, SESSION_LEDGER_FILE), 'utf8')) as { users: string[] }).users;
  } catch {
    return [];
  }
}

/**
 * Holds every thread of libuv's pool (which runs all asynchronous file system calls) in an open()
 * of a FIFO nobody writes to, so no async fs call can finish until release(). Network I/O does not
 * use the pool, so Graph requests still leave.
 */
async function holdFileSystem(): Promise<{ release(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-fifo-'));
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const fifos = Array.from({ length: size }, (_, i) => join(dir, `f${i}`));
  execFileSync('mkfifo', fifos);
  const readers: Promise<FileHandle>[] = fifos.map((f) => open(f, 'r'));
  await yieldToEventLoop();
  return {
    async release() {
      // O_RDWR on a FIFO never blocks on Linux and counts as a writer: every reader's open returns
      const writers = fifos.map((f) => openSync(f, 'r+'));
      for (const handle of await Promise.all(readers)) await handle.close();
      for (const fd of writers) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Yields (real time, no clock moves) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`never saw ${what}`);
}

describe('session ledger and the first setPresence', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** A harness whose emulator reports, at the moment each setPresence arrives, what the ledger file lists. */
  async function setup(): Promise<{ h: Harness; arrivals: string[][] }> {
    const arrivals: string[][] = [];
    const where: { storage?: string } = {};
    // the emulator logs each request synchronously as it arrives, before answering
    const logger = capturingLogger((line) => {
      if (line.level === 'debug' && where.storage !== undefined && /POST \/v1\.0\/users\/[^/]+\/presence\/setPresence /.test(line.message)) arrivals.push(ledgerOnDisk(where.storage));
    });
    const harness = await Harness.create({ emulator: { logger }, config: { onShutdown: 'keep' } }); // keep: a stop sends nothing, like a kill
    where.storage = harness.storage;
    return { h: harness, arrivals };
  }

  function setPresences(harness: Harness): number {
    return harness.callNames().filter((c) => c.startsWith('set ')).length;
  }

  it("a user's first setPresence leaves while the disk is held: it needs no file write of its own", async () => {
    const s = await setup();
    h = s.h;
    const id = h.userId('u0');
    expect(ledgerFile(h.storage)).toEqual({ version: 1, users: [], open: true }); // marked open at start, before any call
    const fs = await holdFileSystem();
    let released = false;
    try {
      h.bridge.signal({ input: 'desk', value: 'busy', at: h.clock.now() });
      await until(() => setPresences(h!) === 1, 'the first setPresence while no file write can finish');
      expect(s.arrivals).toEqual([[]]); // it arrived before any listing could reach the disk
      await fs.release();
      released = true;
    } finally {
      if (!released) await fs.release();
    }
    await until(() => ledgerOnDisk(h!.storage).includes(id), 'the listing written alongside');
    expect(h.presenceOf()).toBe('Busy/InACall');
  });

  it('a kill before the listing reached the disk: the open mark makes the next run clear the unlisted session', async () => {
    const s = await setup();
    h = s.h;
    const fs = await holdFileSystem();
    const crashDisk = mkdtempSync(join(tmpdir(), 'pb-crash-'));
    let released = false;
    try {
      h.bridge.signal({ input: 'desk', value: 'busy', at: h.clock.now() });
      await until(() => setPresences(h!) === 1, 'the first setPresence');
      await h.settle();
      // kill -9 now: the disk holds what it held when the setPresence left (the write is still held)
      copyFileSync(join(h.storage, SESSION_LEDGER_FILE), join(crashDisk, SESSION_LEDGER_FILE));
      expect(ledgerFile(crashDisk)).toEqual({ version: 1, users: [], open: true });
      await fs.release();
      released = true;
    } finally {
      if (!released) await fs.release();
    }
    await h.bridge.stop(); // onShutdown keep: sends nothing, like the kill
    expect(h.presenceOf()).toBe('Busy/InACall');
    const next = createBridge(h.config, { logger: h.logger, clock: h.clock, storagePath: crashDisk, features: [], random: () => 0.5 });
    try {
      await next.start();
      await h.clock.advance(STARTUP_GRACE_MS + 5000, async () => {
        await yieldToEventLoop();
        await next.whenIdle();
      });
      expect(h.callNames()).toEqual(['set Busy/InACall', 'clear']);
      expect(h.presenceOf()).toBe('Offline/Offline');
      expect(h.logger.texts().some((l) => l.includes('did not stop cleanly'))).toBe(true);
    } finally {
      await next.stop();
      rmSync(crashDisk, { recursive: true, force: true });
    }
  });

  it('a clean stop clears the open mark: the next run clears nobody it does not list', async () => {
    const s = await setup();
    h = s.h;
    await h.signal('desk', 'busy');
    await h.signal('desk', 'off');
    await h.advance(2_000);
    expect(h.callNames()).toEqual(['set Busy/InACall', 'clear']);
    await h.bridge.stop();
    expect(ledgerFile(h.storage)).toEqual({ version: 1, users: [], open: false });
    const next = createBridge(h.config, { logger: h.logger, clock: h.clock, storagePath: h.storage, features: [], random: () => 0.5 });
    try {
      await next.start();
      expect(ledgerFile(h.storage)).toMatchObject({ open: true });
      await h.clock.advance(STARTUP_GRACE_MS + 5000, async () => {
        await yieldToEventLoop();
        await next.whenIdle();
      });
      expect(h.callNames()).toEqual(['set Busy/InACall', 'clear']);
    } finally {
      await next.stop();
    }
  });

  it('does not wait on the disk for a user already listed: new pairs and renewals go out at once', async () => {
    const s = await setup();
    h = s.h;
    const id = h.userId('u0');
    await h.signal('desk', 'busy');
    await until(() => ledgerOnDisk(h!.storage).includes(id), 'the ledger list the user');
    await h.advance(2_000); // the publisher spaces calls 2 s apart
    // the first setPresence may arrive before its listing (it does not wait for the file); what
    // follows here is for a listed user
    const listedFrom = s.arrivals.length;
    const fs = await holdFileSystem();
    try {
      h.bridge.signal({ input: 'desk', value: 'away', at: h.clock.now() });
      await until(() => setPresences(h!) === 2, 'a new pair while the disk is held');
      await h.settle();
      await h.advance(HOUR); // renewals, all while the disk is held
      expect(h.callNames().filter((c) => c === 'set Away/Away').length).toBeGreaterThanOrEqual(2);
    } finally {
      await fs.release();
    }
    expect(s.arrivals.length).toBeGreaterThan(listedFrom);
    expect(s.arrivals.slice(listedFrom).every((listed) => listed.includes(id))).toBe(true);
    expect(h.presenceOf()).toBe('Away/Away');
  });
});

/**
 * Counts the writes of state files in `dir` as they happen: each atomic write creates its own
 * temporary file (`.<name>.<random>.tmp`) beside the file, so distinct temporary names are writes.
 */
function countWrites(dir: string): { of(file: string): number; close(): void } {
  const seen = new Set<string>();
  const watcher = watch(dir, (_event, name) => {
    if (name !== null && name.endsWith('.tmp')) seen.add(name);
  });
  return {
    of: (file) => [...seen].filter((n) => n.startsWith(`.${file}.`)).length,
    close: () => watcher.close(),
  };
}

describe('a burst of first signals (issue 16: the first signal counts as much as the thousandth)', () => {
  const USERS = 40;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('shares state file writes (at most one per spacing), while every user ends up listed and each set left under the open mark', async () => {
    const inputs = Array.from({ length: USERS }, (_, i) => ({ type: 'mqtt', name: `in${i}`, topic: `desk/${i}`, user: `u${i}`, map: { busy: 'Busy/InACall' } }));
    const arrivals: unknown[] = [];
    const where: { storage?: string } = {};
    const logger = capturingLogger((line) => {
      if (line.level === 'debug' && where.storage !== undefined && /POST \/v1\.0\/users\/[^/]+\/presence\/setPresence /.test(line.message)) arrivals.push(ledgerFile(where.storage));
    });
    h = await Harness.create({ userCount: USERS, emulator: { logger }, config: { onShutdown: 'keep', inputs } });
    where.storage = h.storage;
    const writes = countWrites(h.storage);
    const harness = h;
    try {
      const started = performance.now();
      // one user's first signal after another, each once the previous one's setPresence arrived:
      // spread over real time, as a stream of messages is, not all in one turn of the event loop
      for (let i = 0; i < USERS; i++) {
        harness.bridge.signal({ input: `in${i}`, value: 'busy', at: harness.clock.now() });
        await until(() => arrivals.length === i + 1, `user ${i}'s first setPresence`);
      }
      const elapsed = performance.now() - started;
      const ids = harness.config.users.map((u) => u.id);
      await until(() => ids.every((id) => ledgerOnDisk(harness.storage).includes(id)), 'every user listed');
      await until(() => writes.of(INTENT_STORE_FILE) > 0, 'the intents written');
      const allowed = 2 + Math.ceil((performance.now() - started) / WRITE_SPACING_MS);
      // a write per first signal would be USERS writes; the spacing allows about one per WRITE_SPACING_MS
      expect(writes.of(SESSION_LEDGER_FILE)).toBeLessThanOrEqual(Math.min(allowed, USERS / 2));
      expect(writes.of(INTENT_STORE_FILE)).toBeLessThanOrEqual(Math.min(allowed, USERS / 2));
      expect(elapsed).toBeGreaterThan(0);
    } finally {
      writes.close();
    }
    // every setPresence left while the file on disk carried the open mark: a kill at any moment of
    // the burst leaves a file that makes the next run clear (test above)
    expect(arrivals).toHaveLength(USERS);
    expect(arrivals.every((file) => (file as { open?: boolean }).open === true)).toBe(true);
    await h.bridge.stop();
    expect(ledgerFile(h.storage)).toMatchObject({ open: false, users: expect.arrayContaining(h.config.users.map((u) => u.id)) as unknown });
  });
});
