// Per shard process (issue 19 sizing), real time: three `presence-bridge run --shard I/3`
// processes (the built CLI) against one Mosquitto and the emulator in its own process, users from
// a group, an input template; for each size, the time from spawn to /readyz answering 200, RSS
// and CPU per process (/proc) at rest, while every user is asserted at once, and holding.
//
//   node bench/fleet/shards.mjs OUT.json          (after npm run build; FLEET_SHARD_USERS=1000,2000)
//
// The fleet's budget is the example's (FLEET_SHARD_BUDGET, default 1,200 per 30 s, 400 per shard)
// and the emulator enforces Graph's 1,500: with the budget lifted, three shards' start bursts
// overwhelmed the one emulator process on a loaded machine (TLS connect timeouts), which measured
// the emulator, not the shards.
import { spawn, fork } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, startMosquitto } from '../compare/helpers.mjs';
import { DIST, ROOT, WORK, requireBuild } from './lib.mjs';

requireBuild();
const outFile = process.argv[2];
const PER_SHARD = (process.env.FLEET_SHARD_USERS ?? '1000,2000').split(',').map(Number);
const SHARDS = 3;
const HOLD_S = Number(process.env.FLEET_HOLD_SECONDS ?? 20);
const BUDGET = Number(process.env.FLEET_SHARD_BUDGET ?? 1200);
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[shards]', ...a);

function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuMs, rssKb };
}

async function startEmulatorChild(users) {
  const child = fork(join(ROOT, 'bench/fleet/emulatorChild.mjs'), [DIST, String(users), '1500'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator child exited (${code})`)));
    child.once('message', resolve);
  });
  child.removeAllListeners('exit');
  return {
    ...ready,
    holding: (pair) =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send({ type: 'holding', pair });
      }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

async function readyz(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Every shard process spawned, so that a failed start still stops them all. */
const spawned = [];

async function startShard(index, configFile, dir) {
  const port = await freePort();
  const logFile = join(dir, `shard-${index}.log`);
  const out = openSync(logFile, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(DIST, 'cli/main.js'), 'run', '--config', configFile, '--storage', dir, '--shard', `${index}/${SHARDS}`, '--http', String(port)], { stdio: ['ignore', out, out] });
  closeSync(out);
  spawned.push({ child });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`shard ${index} exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (await readyz(port)) break;
    if (performance.now() - t0 > 300_000) throw new Error(`shard ${index} not ready in 300 s`);
    await sleep(50);
  }
  const users = Number(/shard \d+\/\d+: (\d+) of/.exec(readFileSync(logFile, 'utf8'))?.[1] ?? NaN);
  return { index, child, pid: child.pid, readyMs: performance.now() - t0, users, logFile };
}

async function stopShard(s) {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function runSize(perShard, broker) {
  const total = perShard * SHARDS;
  const em = await startEmulatorChild(total);
  const dir = join(WORK, `shards-${total}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const app = em.facts.apps[0];
  const config = {
    platform: 'PresenceBridge',
    name: 'presence-bridge',
    auth: { mode: 'application', tenantId: em.facts.tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: em.facts.authorityHost },
    graph: { baseUrl: em.facts.graphBaseUrl, expiration: 'PT1H', maxRequestsPer30s: BUDGET, pollSeconds: 0 },
    tls: { caFile: em.facts.caCertFile },
    users: [],
    userGroups: [{ id: em.groupId, refreshMinutes: 15 }],
    // a client id per size: shards of an earlier size must not resume their broker sessions here
    mqtt: { url: broker.url, clientId: `presence-bridge-${total}`, homeAssistant: false },
    inputs: [{ type: 'mqtt', name: 'Headset', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', OFF: 'clear' } }],
    onShutdown: 'keep',
  };
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const shards = [];
  try {
    // started together, as a StatefulSet with podManagementPolicy Parallel does
    shards.push(...(await Promise.all(Array.from({ length: SHARDS }, (_, i) => startShard(i, configFile, dir)))));
    await sleep(2000);
    const rest0 = shards.map((s) => procStats(s.pid));
    await sleep(5000);
    const rest1 = shards.map((s) => procStats(s.pid));
    log(`${total} users: ready in ${shards.map((s) => (s.readyMs / 1000).toFixed(1)).join(' / ')} s, users ${shards.map((s) => s.users).join(' / ')}`);

    const peak = shards.map(() => 0);
    const sampler = setInterval(() => shards.forEach((s, i) => (peak[i] = Math.max(peak[i], procStats(s.pid).rssKb))), 100);
    const desk = await mqtt.connectAsync(broker.url, { clientId: `bench-desks-${total}` });
    const burst0 = shards.map((s) => procStats(s.pid));
    const t0 = performance.now();
    await Promise.all(em.keys.map((key) => desk.publishAsync(`desk/${key}/hook`, 'ON', { qos: 1 })));
    let holding;
    for (;;) {
      holding = await em.holding('Busy/InACall');
      if (holding.count === total || performance.now() - t0 > 300_000) break;
      await sleep(250);
    }
    const allHeldMs = performance.now() - t0;
    const burst1 = shards.map((s) => procStats(s.pid));
    await desk.endAsync();
    await sleep(2000);
    const hold0 = shards.map((s) => procStats(s.pid));
    await sleep(HOLD_S * 1000);
    const hold1 = shards.map((s) => procStats(s.pid));
    clearInterval(sampler);
    const final = await em.holding('Busy/InACall');
    const result = {
      perShard,
      total,
      budget: BUDGET,
      shards: shards.map((s, i) => ({
        users: s.users,
        readyS: s.readyMs / 1000,
        rssRestMiB: rest1[i].rssKb / 1024,
        cpuRestPct: ((rest1[i].cpuMs - rest0[i].cpuMs) / 5000) * 100,
        cpuBurstS: (burst1[i].cpuMs - burst0[i].cpuMs) / 1000,
        cpuPerUserMs: (burst1[i].cpuMs - burst0[i].cpuMs) / s.users,
        rssPeakMiB: peak[i] / 1024,
        rssHoldingMiB: hold1[i].rssKb / 1024,
        cpuHoldingPct: ((hold1[i].cpuMs - hold0[i].cpuMs) / (HOLD_S * 1000)) * 100,
        cpuTotalS: hold1[i].cpuMs / 1000,
      })),
      allHeldS: holding.count === total ? allHeldMs / 1000 : null,
      holdingAtEnd: final.count,
      setPresence: final.setPresence,
      throttled: final.throttled,
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    for (const s of spawned.splice(0)) await stopShard(s);
    await em.close();
  }
}

const results = { at: new Date().toISOString(), loadBefore: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number), sizes: [] };
const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] });
try {
  for (const perShard of PER_SHARD) results.sizes.push(await runSize(perShard, broker));
} finally {
  await broker.close();
}
results.loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
if (outFile) await writeFile(outFile, JSON.stringify(results, null, 2));
