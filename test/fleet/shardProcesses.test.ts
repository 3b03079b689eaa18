/**
 * Issue 19's done-when test: three shard PROCESSES (`presence-bridge run --shard I/3`, the built
 * CLI) against one Mosquitto and the HTTPS emulator on real time, 3,000 users from a group, each
 * shard signed in with its own app registration (`fleet.shardAuth`, entry I for shard I) so the
 * emulator's request log says which process made each Graph call.
 *
 * 1. Every user is owned by exactly one shard: each process reports its share, the shares are
 *    what `shardOf` says and add up to 3,000, and no user id appears in two apps' calls.
 * 2. Each shard calls Graph only for its own users and within its budget: more inputs than
 *    `graph.maxRequestsPer30s` are published for every shard in one go, and no app's presence
 *    calls exceed the budget in any 30 s window of the emulator's arrival stamps, so the limiter
 *    paced them;
 *    nothing got a 429. Shard 1's calls before the kill and after the restart are counted apart:
 *    a new process does not know what the killed one spent.
 * 3. Shard 1 is killed with SIGKILL, inputs for its users are published while it is down (QoS 1),
 *    it is started again and those users end in the right state; the other shards' users are
 *    not touched.
 * 4. A member is added to and one removed from the group at the start; the next refresh (which
 *    falls while part 3 runs) picks both up: the removed member's session is cleared by their
 *    owner's app, and the added member's templated topic sets their presence through their
 *    owner's app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator, type Emulator, type RequestLogEntry } from '../../src/emulator/index.js';
import { shardOf } from '../../src/fleet/shard.js';
import { storageDir } from '../helpers/bridgeOnEmulator.js';
import { builtProduct } from '../helpers/builtProduct.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { isRunning, terminate } from '../helpers/childProcess.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';

const cleanups = cleanupAfterEach();
const SHARDS = 3;
const USERS = 3000;
/** Each shard's `graph.maxRequestsPer30s` (its own app registration has all of it). */
const BUDGET = 20;
/** Inputs published per shard in one go: more than BUDGET, so the limiter must hold some back. */
const BURST = BUDGET + 4;
/** Shard 1's users who get a new state while it is down. */
const VICTIMS = 8;
/**
 * Graph's window, checked on the emulator's arrival stamps. The limiter holds a call's slot from
 * its dispatch until 30 s after its answer, so an arrival delayed by the token and a new TLS
 * connection (5-6 s for the first calls of a burst on a loaded machine, seen) cannot put more than
 * the budget into any 30 s of arrivals. Without the limiter each shard's BURST calls arrive within
 * a few seconds and the check fails.
 */
const WINDOW_MS = 30_000;

/**
 * Each shard reads the group again this long after it started. The refresh must fall after the
 * burst's second window, so the test does not wait for it long after part 3.
 */
const REFRESH_MINUTES = 1.5;

const PRESENCE_CALL = /^\/users\/([^/]+)\/presence\/(setPresence|clearPresence)$/;

interface PresenceCall {
  readonly app: string;
  readonly user: string;
  readonly op: string;
  readonly at: number;
  readonly status: number;
}

function presenceCalls(log: readonly RequestLogEntry[]): PresenceCall[] {
  const calls: PresenceCall[] = [];
  for (const r of log) {
    const match = PRESENCE_CALL.exec(r.route);
    if (match && r.appId) calls.push({ app: r.appId.toLowerCase(), user: match[1]!.toLowerCase(), op: match[2]!, at: r.at, status: r.status });
  }
  return calls;
}

/** The most calls in any window of `windowMs` (a window starts at each call). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** A new user id that hashes to `shard`. */
function idOwnedBy(shard: number): string {
  for (;;) {
    const id = randomUUID();
    if (shardOf(id, SHARDS) === shard) return id;
  }
}

function shardLog(dir: string, index: number): string {
  return readFileSync(join(dir, `shard-${index}.log`), 'utf8');
}

/** Counts retained and live 'online' status messages of any shard (`presence-bridge/status/#` matches the shared topic and per-shard ones). */
async function watchOnline(desk: MqttClient): Promise<{ count: number }> {
  const seen = { count: 0 };
  desk.on('message', (topic, payload) => {
    if (topic.startsWith('presence-bridge/status') && payload.toString() === 'online') seen.count += 1;
  });
  await desk.subscribeAsync('presence-bridge/status/#', { qos: 1 });
  return seen;
}

async function tenant(): Promise<{ e: Emulator; members: { id: string }[]; groupId: string; joiner: { id: string; key: string } }> {
  // apps[2], apps[3], apps[4]: one registration per shard, each with its own throttling budget
  const e = await startEmulator({ port: 0, host: '127.0.0.1', appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'], extraApps: SHARDS });
  cleanups.push(() => e.close());
  const members = e.addUsers(Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `desk${String(i).padStart(4, '0')}@contoso.example` })));
  const group = e.addGroup({ displayName: 'Desks', members: members.map((m) => m.id) });
  // in the directory from the start, in the group only once the test adds them; owned by shard 2
  const [joiner] = e.addUsers([{ userPrincipalName: 'newdesk@contoso.example', id: idOwnedBy(2) }]);
  return { e, members, groupId: group.id, joiner: { id: joiner!.id, key: 'newdesk' } };
}

describe('three shard processes, 3,000 users from a group', () => {
  it('own each user once, call Graph only for their users within budget, lose nothing across a SIGKILL, and follow the group', { timeout: 300_000 }, async () => {
    const CLI = builtProduct().cli;
    const { e, members, groupId, joiner } = await tenant();
    const appOfShard = [2, 3, 4].map((i) => e.apps[i]!);
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const desk = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'desks' });
    cleanups.push(() => desk.endAsync());
    const online = await watchOnline(desk);

    const dir = await storageDir('shard-processes-', cleanups);
    const configFile = join(dir, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        ...emulatorConfigBlock(e, { graph: { pollSeconds: 0, maxRequestsPer30s: BUDGET } }),
        fleet: { shardAuth: appOfShard.map((a) => ({ clientId: a.clientId, clientSecret: a.clientSecret })) },
        // the refresh falls while part 3 runs, well over 30 s after each shard's part-2 calls
        userGroups: [{ id: groupId, refreshMinutes: REFRESH_MINUTES }],
        mqtt: { url: broker.url, homeAssistant: false, commandTopics: false },
        inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', DND: 'DoNotDisturb/Presenting' } }],
        onShutdown: 'keep',
      }),
      { mode: 0o600 },
    );
    const children: (ChildProcess | undefined)[] = [];
    const start = (index: number): void => {
      const out = openSync(join(dir, `shard-${index}.log`), 'a');
      children[index] = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--storage', dir, '--shard', `${index}/${SHARDS}`], { stdio: ['ignore', out, out] });
      closeSync(out);
    };
    cleanups.push(async () => {
      for (const c of children) await terminate(c);
    });
    const withLogs = (error: unknown): never => {
      if (process.env.KEEP_SHARD_LOGS) for (const i of [0, 1, 2]) writeFileSync(join(process.env.KEEP_SHARD_LOGS, `shard-${i}.log`), shardLog(dir, i));
      throw new Error(`${String(error)}\n${[0, 1, 2].map((i) => `--- shard ${i}\n${shardLog(dir, i).slice(-2500)}`).join('\n')}`);
    };
    for (let i = 0; i < SHARDS; i++) start(i);
    await waitFor(() => online.count >= SHARDS, { what: 'three shards subscribed', timeoutMs: 120_000 }).catch(withLogs);

    const pair = (id: string): string => {
      const p = e.presenceOf(id);
      return `${p.availability}/${p.activity}`;
    };
    const publish = async (index: number | string, value: string): Promise<void> => {
      const key = typeof index === 'string' ? index : `desk${String(index).padStart(4, '0')}`;
      await desk.publishAsync(`desk/${key}/hook`, value, { qos: 1 });
    };
    const ownerOf = (i: number): number => shardOf(members[i]!.id, SHARDS);
    const firstOwnedBy = (shard: number, count: number, skip = 0): number[] => members.map((_, i) => i).filter((i) => ownerOf(i) === shard).slice(skip, skip + count);

    // part 4 starts now: a member of shard 0 with a session leaves, a new member joins (shard 2)
    const [leaver] = firstOwnedBy(0, 1);
    await publish(leaver!, 'ON');
    await waitFor(() => pair(members[leaver!]!.id) === 'Busy/InACall', { what: 'the leaver busy', timeoutMs: 30_000 }).catch(withLogs);
    expect(e.removeGroupMember(groupId, members[leaver!]!.id)).toBe(true);
    e.addGroupMembers(groupId, [joiner.id]);

    // part 2: more inputs than the budget for every shard in one go
    const burst = [0, 1, 2].map((s) => firstOwnedBy(s, BURST, s === 0 ? 1 : 0));
    for (const i of burst.flat()) await publish(i, 'ON');
    await waitFor(() => burst.flat().every((i) => pair(members[i]!.id) === 'Busy/InACall'), { what: 'every burst user busy', timeoutMs: 90_000 }).catch(withLogs);

    // part 3: SIGKILL shard 1, new states for some of its users while it is down, restart
    const victims = burst[1]!.slice(0, VICTIMS);
    const killed = children[1]!;
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    killed.kill('SIGKILL');
    await exited;
    expect(isRunning(killed)).toBe(false);
    const killedAt = e.clock.now();
    for (const i of victims) await publish(i, 'DND');
    start(1);
    await waitFor(() => victims.every((i) => pair(members[i]!.id) === 'DoNotDisturb/Presenting'), { what: 'the inputs published while shard 1 was down', timeoutMs: 90_000 }).catch(withLogs);
    expect(shardLog(dir, 1)).toContain('session resumed');
    expect(existsSync(join(dir, 'shard-1-of-3'))).toBe(true);
    // nobody else was touched: shard 1's other users and the other shards' users are still busy
    expect(burst.flat().filter((i) => !victims.includes(i)).map((i) => pair(members[i]!.id))).toEqual(Array<string>(BURST * SHARDS - VICTIMS).fill('Busy/InACall'));

    // part 4: the refresh clears the leaver's session and subscribes the joiner's topic
    await waitFor(() => e.sessionsOf(members[leaver!]!.id).length === 0, { what: 'the leaver cleared at the next refresh', timeoutMs: 90_000 }).catch(withLogs);
    let lastPublish = 0;
    await waitFor(() => pair(joiner.id) === 'Busy/InACall', {
      what: 'the joiner set through their templated topic',
      timeoutMs: 60_000,
      // the topic is subscribed once shard 2's refresh ran; a desk repeats its state until then
      onPoll: async () => {
        if (Date.now() - lastPublish < 1_000) return;
        lastPublish = Date.now();
        await publish(joiner.key, 'ON');
      },
    }).catch(withLogs);

    // part 1: every user owned by exactly one shard, each process reported its share
    const shares = [0, 1, 2].map((i) => Number(/shard \d\/3: (\d+) of 3000 user/.exec(shardLog(dir, i))?.[1] ?? -1));
    expect(shares.reduce((a, b) => a + b, 0)).toBe(USERS);
    shares.forEach((n, i) => expect(n).toBe(members.filter((m) => shardOf(m.id, SHARDS) === i).length));

    // parts 1 and 2 from the emulator's request log: who called for whom, and how often
    const calls = presenceCalls(e.requestLog());
    const shardOfApp = new Map(appOfShard.map((a, i) => [a.clientId.toLowerCase(), i]));
    expect(calls.filter((c) => !shardOfApp.has(c.app))).toEqual([]);
    expect(calls.filter((c) => shardOf(c.user, SHARDS) !== shardOfApp.get(c.app))).toEqual([]);
    const appsPerUser = new Map<string, Set<string>>();
    for (const c of calls) appsPerUser.set(c.user, (appsPerUser.get(c.user) ?? new Set()).add(c.app));
    expect([...appsPerUser.values()].filter((apps) => apps.size > 1)).toEqual([]);
    const written = new Set(calls.filter((c) => c.op === 'setPresence').map((c) => c.user));
    expect(written).toEqual(new Set([leaver!, ...burst.flat()].map((i) => members[i]!.id.toLowerCase()).concat(joiner.id.toLowerCase())));
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    for (const [s, app] of appOfShard.entries()) {
      const mine = calls.filter((c) => c.app === app.clientId.toLowerCase());
      // a process's limiter counts its own calls: shard 1's calls before the kill and after the restart are two lives
      const lives = s === 1 ? [mine.filter((c) => c.at <= killedAt), mine.filter((c) => c.at > killedAt)] : [mine];
      for (const life of lives) {
        expect(life.length).toBeGreaterThan(0);
        const t0 = life[0]!.at;
        expect(busiestWindow(life.map((c) => c.at), WINDOW_MS), `shard ${s}'s busiest window; calls at s: ${life.map((c) => ((c.at - t0) / 1000).toFixed(1)).join(' ')}`).toBeLessThanOrEqual(BUDGET);
      }
      expect(mine.length, `shard ${s} made more calls than one window allows`).toBeGreaterThan(BUDGET);
    }
    // part 4 in the log: the leaver cleared and the joiner set, each by their owner's app
    const leaverId = members[leaver!]!.id.toLowerCase();
    expect(calls.some((c) => c.user === leaverId && c.op === 'clearPresence' && c.app === appOfShard[0]!.clientId.toLowerCase() && c.status < 300)).toBe(true);
    expect(calls.some((c) => c.user === joiner.id.toLowerCase() && c.op === 'setPresence' && c.app === appOfShard[2]!.clientId.toLowerCase() && c.status < 300)).toBe(true);
  });
});
