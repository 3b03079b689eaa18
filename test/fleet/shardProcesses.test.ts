/**
 * Shard processes (`presence-bridge run --shard I/3`, the built CLI) against one Mosquitto and the
 * emulator on real time, 3,000 users from a group: one shard is killed with SIGKILL, inputs for its
 * users are published while it is dead (QoS 1, not retained), it is started again, and those
 * users end in the right state: the broker kept them in the shard's persistent session.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator } from '../../src/emulator/index.js';
import { shardOf } from '../../src/fleet/shard.js';
import { storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { isRunning, terminate } from '../helpers/childProcess.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';
import { builtProduct } from '../helpers/builtProduct.js';

const cleanups = cleanupAfterEach();
const SHARDS = 3;
const USERS = 3000;
/** Users whose desks publish (every 67th): 45, about 15 per shard. */
const SAMPLE = Array.from({ length: 45 }, (_, i) => i * 67);

describe('a shard process killed with SIGKILL', () => {
  it('gets the inputs published while it was dead when it comes back', { timeout: 120_000 }, async () => {
    const CLI = builtProduct().cli;
    const e = await startEmulator({ port: 0, host: '127.0.0.1', appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const members = e.addUsers(Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `desk${i}@contoso.example` })));
    const group = e.addGroup({ displayName: 'Desks', members: members.map((m) => m.id) });
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const desk = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'desks' });
    cleanups.push(() => desk.endAsync());
    let online = 0;
    desk.on('message', (topic, payload) => {
      if (topic === 'presence-bridge/status' && payload.toString() === 'online') online += 1;
    });
    await desk.subscribeAsync('presence-bridge/status', { qos: 1 });

    const dir = await storageDir('kill-shard-', cleanups);
    const configFile = join(dir, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        ...emulatorConfigBlock(e, { graph: { pollSeconds: 0, maxRequestsPer30s: 1500 } }),
        userGroups: [{ id: group.id }],
        mqtt: { url: broker.url, homeAssistant: false, commandTopics: false },
        inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', DND: 'DoNotDisturb/Presenting' } }],
        onShutdown: 'clear',
      }),
      { mode: 0o600 },
    );
    const children: (ChildProcess | undefined)[] = [];
    const start = (index: number): ChildProcess => {
      const out = openSync(join(dir, `shard-${index}.log`), 'a');
      const child = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--storage', dir, '--shard', `${index}/${SHARDS}`], { stdio: ['ignore', out, out] });
      closeSync(out);
      children[index] = child;
      return child;
    };
    cleanups.push(async () => {
      for (const c of children) await terminate(c);
    });
    for (let i = 0; i < SHARDS; i++) start(i);
    await waitFor(() => online >= SHARDS, { what: 'three shards subscribed', timeoutMs: 60_000 });

    const pair = (i: number): string => {
      const p = e.presenceOf(members[i]!.id);
      return `${p.availability}/${p.activity}`;
    };
    const all = SAMPLE;
    for (const i of all) await desk.publishAsync(`desk/desk${i}/hook`, 'ON', { qos: 1 });
    await waitFor(() => all.every((i) => pair(i) === 'Busy/InACall'), { what: 'all busy', timeoutMs: 30_000 });

    const victims = all.filter((i) => shardOf(members[i]!.id, SHARDS) === 1);
    expect(victims.length).toBeGreaterThan(0);
    const killed = children[1]!;
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    killed.kill('SIGKILL');
    await exited;
    expect(isRunning(killed)).toBe(false);
    for (const i of victims) await desk.publishAsync(`desk/desk${i}/hook`, 'DND', { qos: 1 });
    online = 0;
    start(1);
    await waitFor(() => victims.every((i) => pair(i) === 'DoNotDisturb/Presenting'), { what: 'inputs published while dead', timeoutMs: 60_000 }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${readFileSync(join(dir, 'shard-1.log'), 'utf8').slice(-3000)}`);
    });
    expect(readFileSync(join(dir, 'shard-1.log'), 'utf8')).toContain('session resumed');
    // the other shards' users were not touched
    expect(all.filter((i) => !victims.includes(i)).every((i) => pair(i) === 'Busy/InACall')).toBe(true);
    expect(existsSync(join(dir, 'shard-1-of-3'))).toBe(true);
    // every user of the group owned by exactly one shard: each process reported its share
    const owned = [0, 1, 2].map((i) => Number(/shard \d\/3: (\d+) of 3000 user/.exec(readFileSync(join(dir, `shard-${i}.log`), 'utf8'))?.[1] ?? -1));
    expect(owned.reduce((a, b) => a + b, 0)).toBe(USERS);
    owned.forEach((n, i) => expect(n).toBe(members.filter((m) => shardOf(m.id, SHARDS) === i).length));
    // Graph saw presence calls only for the publishing users, each by its owner's process
    const written = new Set(e.requestLog().filter((r) => r.route.endsWith('/presence/setPresence')).map((r) => r.route.split('/')[2]!.toLowerCase()));
    expect(written).toEqual(new Set(SAMPLE.map((i) => members[i]!.id.toLowerCase())));
  });
});
