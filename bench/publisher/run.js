// Publisher benchmark: Graph calls per user-hour, bursts, scale (RSS/CPU) and signal-to-request
// latency, against the project's real HTTPS emulator with a moved clock. Not a test: it prints
// figures for BENCHMARKS.md.
//
//   npx tsc -p tsconfig.build.json --outDir bench/.work/dist
//   node bench/publisher/run.js                  # every scenario, 1 / 1,000 / 10,000 users
//   node bench/publisher/run.js steady burst     # some scenarios: steady burst latency scale faults
//   PB_FAULT_HOURS=24 PB_FAULTS=healthy,503 node bench/publisher/run.js faults   # the fault matrix (or a part)
//   PB_SCALE_USERS=1,1000 node bench/publisher/run.js scale
//
// PRESENCE_BRIDGE_DIST points at another build (default bench/.work/dist, then dist/).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setImmediate } from 'node:timers';
import { performance } from 'node:perf_hooks';
import { QuantumClock } from '../lib/quantumClock.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const distDir =
  process.env.PRESENCE_BRIDGE_DIST ?? [join(here, '../.work/dist'), join(here, '../../dist')].find((d) => existsSync(join(d, 'bridge.js')));
if (!distDir) throw new Error('build first: npx tsc -p tsconfig.build.json --outDir bench/.work/dist');
const load = (file) => import(pathToFileURL(join(distDir, file)).href);
const { createBridge } = await load('bridge.js');
const { startEmulator } = await load('emulator/index.js');
const { validateConfig } = await load('config/validate.js');
const { silentLogger } = await load('logger.js');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);


const yieldLoop = () => new Promise((resolve) => setImmediate(resolve));

async function withEmulator(userCount, fn, emulatorOptions = {}) {
  const work = await mkdtemp(join(tmpdir(), 'pb-bench-'));
  const clock = new QuantumClock(START);
  let users;
  let stateFile;
  if (userCount > 3) {
    // The emulator's directory has 3 users; a saved state file with more is the supported way to grow it.
    stateFile = join(work, 'state', 'emulator-state.json');
    const seed = await startEmulator({ clock, stateFile });
    await seed.close();
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    for (let i = state.directory.users.length; i < userCount; i++) {
      state.directory.users.push({ id: randomUUID(), userPrincipalName: `bench${i}@${state.directory.domain}`, displayName: `Bench ${i}` });
    }
    await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 });
  }
  const emulator = await startEmulator({ clock, stateFile, ...emulatorOptions });
  if (stateFile) {
    // Loaded. The emulator re-saves its whole state (10,000 users) 50 ms after every change, queueing
    // a snapshot per save when writes are slower than that; that is the emulator's cost, not the
    // bridge's, so its folder is replaced by a file and every save fails at once.
    await rm(join(work, 'state'), { recursive: true, force: true });
    await writeFile(join(work, 'state'), 'saves disabled for the benchmark\n');
  }
  users = emulator.users.slice(0, userCount).map((u, i) => ({ key: `u${i}`, id: u.id }));
  try {
    return await fn({ emulator, clock, users, work });
  } finally {
    await emulator.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** A seeded PRNG (mulberry32): the runs are repeatable, yet users get different renewal phases. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeBridge({ emulator, clock, users, work }, graph = {}) {
  const app = emulator.apps[0];
  const result = validateConfig({
    auth: { tenantId: emulator.tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: emulator.authorityHost },
    graph: { baseUrl: emulator.graphBaseUrl, pollSeconds: 0, ...graph },
    tls: { caFile: emulator.caCertFile },
    users,
    onShutdown: 'keep',
  });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  const bridge = createBridge(result.config, { logger: silentLogger, clock, storagePath: work, features: [], random: seeded(42) });
  const calls = [];
  bridge.events.on('graphCall', (e) => calls.push(e));
  const settle = async () => {
    await yieldLoop();
    await bridge.whenIdle();
    await yieldLoop();
  };
  return { bridge, calls, settle };
}

const PAIRS = {
  Available: { availability: 'Available', activity: 'Available' },
  'Busy/InACall': { availability: 'Busy', activity: 'InACall' },
  'Busy/InAConferenceCall': { availability: 'Busy', activity: 'InAConferenceCall' },
  Away: { availability: 'Away', activity: 'Away' },
  DoNotDisturb: { availability: 'DoNotDisturb', activity: 'Presenting' },
};
const fmt = (p) => `${p.availability}/${p.activity}`;

async function steady() {
  const rows = [];
  for (const expiration of ['PT1H', 'PT4H']) {
    const expirationMs = expiration === 'PT1H' ? HOUR : 4 * HOUR;
    for (const pair of Object.values(PAIRS)) {
      await withEmulator(1, async (env) => {
        const { bridge, calls, settle } = makeBridge(env, { expiration });
        await bridge.start();
        bridge.setIntent('u0', 'homekit', { kind: 'set', pair, at: env.clock.now() });
        await settle();
        const hours = 48; // a multiple of both renewal periods (48 min, 3 h 12 min)
        let faded = 0;
        // 1 s quanta: a call's measured duration is at most one quantum, below the 5 s the adaptive
        // margin counts as slow (10 s quanta made healthy calls look slow)
        await env.clock.run(START + hours * HOUR, 1000, settle, (now) => {
          if ((now - START) % 10_000 !== 0) return;
          const p = env.emulator.presenceOf(env.users[0].id);
          if (fmt(p) !== fmt(pair)) faded++;
        });
        const renewals = calls.filter((c) => c.operation === 'setPresence' && c.ok).length - 1;
        const minimum = pair.availability === 'Available' ? HOUR / (5 * MINUTE) : HOUR / expirationMs;
        rows.push({ expiration, state: fmt(pair), perHour: renewals / hours, minimum, faded });
        await bridge.stop();
      });
    }
  }
  console.log('\n## Steady state: setPresence per user-hour (48 simulated hours, samples every 10 s)\n');
  console.log('| expiration | state | calls per user-hour | theoretical minimum | ratio | samples not showing the state |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.expiration} | ${r.state} | ${r.perHour.toFixed(3)} | ${r.minimum.toFixed(3)} | ${(r.perHour / r.minimum).toFixed(2)} | ${r.faded} |`);
}

async function burst() {
  await withEmulator(1, async (env) => {
    const app = env.emulator.apps[0];
    const result = validateConfig({
      auth: { tenantId: env.emulator.tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: env.emulator.authorityHost },
      graph: { baseUrl: env.emulator.graphBaseUrl, pollSeconds: 0 },
      tls: { caFile: env.emulator.caCertFile },
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      users: env.users,
      inputs: [{ type: 'mqtt', name: 'button', topic: 'b', map: { single: 'toggle' }, toggle: ['Busy/InACall'] }],
      onShutdown: 'keep',
    });
    const bridge = createBridge(result.config, { logger: silentLogger, clock: env.clock, storagePath: env.work, features: [], random: () => 0.5 });
    const calls = [];
    bridge.events.on('graphCall', (e) => calls.push(e));
    await bridge.start();
    const out = [];
    for (const n of [100, 101]) {
      const before = calls.length;
      const t0 = env.clock.now();
      for (let i = 0; i < n; i++) {
        bridge.signal({ input: 'button', value: 'single', at: env.clock.now() });
        await yieldLoop();
        await env.clock.run(env.clock.now() + 10, 10, yieldLoop);
      }
      await env.clock.run(t0 + 10_000, 100, async () => {
        await yieldLoop();
        await bridge.whenIdle();
      });
      const made = calls.slice(before);
      out.push({ n, calls: made.map((c) => `${c.operation}${c.detail ? ` ${c.detail}` : ''} @${((c.startedAt - t0) / 1000).toFixed(2)} s`), final: fmt(env.emulator.presenceOf(env.users[0].id)) });
      await env.clock.run(env.clock.now() + 10_000, 1000, () => bridge.whenIdle());
    }
    console.log('\n## Burst: toggles 10 ms apart (one second), a toggle cycle Busy/InACall ↔ clear\n');
    console.log('| toggles | Graph calls | calls | final presence at Graph |');
    console.log('| ---: | ---: | --- | --- |');
    for (const r of out) console.log(`| ${r.n} | ${r.calls.length} | ${r.calls.join('; ')} | ${r.final} |`);
    await bridge.stop();
  });
}

async function latency() {
  await withEmulator(1, async (env) => {
    const { bridge, settle } = makeBridge(env);
    await bridge.start();
    let signalledAt = 0n;
    const samples = [];
    // The moment undici writes the request headers to the socket: the request leaves the process.
    subscribe('undici:client:sendHeaders', (message) => {
      if (signalledAt !== 0n && String(message.request.path).endsWith('/presence/setPresence')) {
        samples.push(Number(process.hrtime.bigint() - signalledAt) / 1e6);
        signalledAt = 0n;
      }
    });
    const pairs = [PAIRS['Busy/InACall'], PAIRS.DoNotDisturb];
    for (let i = 0; i < 220; i++) {
      signalledAt = process.hrtime.bigint();
      bridge.setIntent('u0', 'homekit', { kind: 'set', pair: pairs[i % 2], at: env.clock.now() });
      await settle();
      await env.clock.run(env.clock.now() + 3000, 3000, settle); // past the 2 s per-user spacing
    }
    const warm = samples.slice(20).sort((a, b) => a - b);
    const q = (p) => warm[Math.min(warm.length - 1, Math.floor(p * warm.length))].toFixed(3);
    console.log('\n## Signal to request leaving the process (real time, warm keep-alive connection and cached token)\n');
    console.log(`samples ${warm.length} (first 20 dropped as warm-up; the very first includes sign-in: ${samples[0].toFixed(1)} ms)`);
    console.log(`| p50 | p90 | p99 | max |\n| ---: | ---: | ---: | ---: |\n| ${q(0.5)} ms | ${q(0.9)} ms | ${q(0.99)} ms | ${warm.at(-1).toFixed(3)} ms |`);
    await bridge.stop();
  });
}

async function scaleOne(userCount, limit) {
  return withEmulator(
    userCount,
    async (env) => {
      const { bridge, calls, settle } = makeBridge(env, { maxRequestsPer30s: limit });
      globalThis.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      await bridge.start();
      for (const u of env.users) bridge.setIntent(u.key, 'homekit', { kind: 'set', pair: PAIRS.Available, at: env.clock.now() });
      let rssMax = 0;
      let notShowing = 0;
      let samples = 0;
      let lastCheck = START;
      await env.clock.run(START + HOUR, 100, settle, (now) => {
        if (now - lastCheck < 60_000 && now !== START + HOUR) return;
        lastCheck = now;
        if (userCount >= 1000 && (now - START) % (10 * MINUTE) === 0) console.error(`  ${userCount} users: ${(now - START) / MINUTE} simulated min, ${(performance.now() - wallBefore) / 1000 | 0} s`);
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
        if (now < START + 5 * MINUTE) return; // the first sets are still going out
        for (const u of env.users) {
          samples++;
          const p = env.emulator.presenceOf(u.id);
          if (p.availability !== 'Available' || p.activity !== 'Available') notShowing++;
        }
      });
      const cpu = process.cpuUsage(cpuBefore);
      const wall = performance.now() - wallBefore;
      const sets = calls.filter((c) => c.operation === 'setPresence');
      const failures = sets.filter((c) => !c.ok);
      const failed = failures.length;
      const failedBy = {};
      for (const c of failures) {
        const key = `${c.status ?? ''} ${c.errorCode ?? ''} at ${Math.round((c.startedAt - START) / 1000)} s`.trim();
        failedBy[key] = (failedBy[key] ?? 0) + 1;
      }
      if (failed > 0) console.error(`  ${userCount} users: failures ${JSON.stringify(failedBy)}`);
      const times = sets.map((c) => c.startedAt).sort((a, b) => a - b);
      const maxIn30s = (list) => {
        let max = 0;
        for (let i = 0, j = 0; i < list.length; i++) {
          while (list[i] - list[j] >= 30_000) j++;
          max = Math.max(max, i - j + 1);
        }
        return max;
      };
      const maxWindow = maxIn30s(times);
      const maxWindowSteady = maxIn30s(times.filter((t) => t >= START + 30 * MINUTE));
      // Spread: requests per second in the last 30 minutes (steady state), max and mean.
      const perSecond = new Map();
      for (const t of times) if (t >= START + 30 * MINUTE) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
      const secs = 30 * 60;
      const maxPerSecond = Math.max(0, ...perSecond.values());
      const meanPerSecond = [...perSecond.values()].reduce((a, b) => a + b, 0) / secs;
      await bridge.stop();
      return {
        userCount,
        limit,
        requests: sets.length,
        failed,
        perUserHour: (sets.length - userCount) / userCount,
        maxWindow,
        maxWindowSteady,
        maxPerSecond,
        meanPerSecond,
        notShowing,
        samples,
        rssMiB: Math.round(Math.max(rssMax, process.memoryUsage().rss) / 2 ** 20),
        rssGrowthMiB: Math.round((Math.max(rssMax, process.memoryUsage().rss) - rssBefore) / 2 ** 20),
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        wallSeconds: wall / 1000,
      };
    },
    { throttleLimit: 1500 },
  );
}

async function scale() {
  const counts = (process.env.PB_SCALE_USERS ?? '1,1000,10000').split(',').map(Number);
  const rows = [];
  for (const n of counts) {
    // Graph's documented floor is 1,500 presence requests per 30 s per app; the bridge's default
    // budget (1,000) holds about 7,000 Available users, so 10,000 need a budget near the floor.
    const limit = n > 5000 ? 1490 : 1000;
    rows.push(await scaleOne(n, limit));
    const r = rows.at(-1);
    console.error(`scale ${n}: done in ${r.wallSeconds.toFixed(1)} s`);
  }
  console.log('\n## Scale: users held Available for one simulated hour (bridge and emulator in one process)\n');
  console.log('| users | budget /30 s | setPresence | failed | renewals per user-hour | max in any 30 s | max in any 30 s (steady) | max per second (steady) | mean per second (steady) | samples not Available | RSS max | RSS growth | CPU | wall |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.userCount} | ${r.limit} | ${r.requests} | ${r.failed} | ${r.perUserHour.toFixed(2)} | ${r.maxWindow} | ${r.maxWindowSteady} | ${r.maxPerSecond} | ${r.meanPerSecond.toFixed(1)} | ${r.notShowing} of ${r.samples} | ${r.rssMiB} MiB | ${r.rssGrowthMiB} MiB | ${r.cpuSeconds.toFixed(1)} s | ${r.wallSeconds.toFixed(1)} s |`,
    );
  }
}

/**
 * Graph calls per user-hour for users held Available, healthy and under each fault of the matrix,
 * and fades: 20 users, 24 simulated hours, clock quanta of 1 s, presence sampled every 10 s.
 * Each fault recurs every 2 h at a seeded random moment, so it meets renewals at every phase.
 * A hung request is simulated on the moved clock: the emulator holds it, the clock moves 30 s
 * (the default graph.timeoutSeconds), then the bridge's own timeout (2 s of real time here)
 * ends it, so the bridge sees it fail 30 s after it left, as it would against Graph.
 */
async function faults() {
  const USERS = 20;
  const HOURS = Number(process.env.PB_FAULT_HOURS ?? 24);
  const HANG_MS = 30_000;
  const matrix = {
    healthy: null,
    '503 storm (every request 503 for 15 s)': { start: (e) => e.injectFault({ kind: 'status', status: 503, count: 1_000_000, path: '/users/' }), lastsMs: 15_000 },
    '429 with Retry-After 10 s (every request, for 20 s)': {
      start: (e) => e.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 10, count: 1_000_000, path: '/users/' }),
      lastsMs: 20_000,
    },
    'token outage (the next 3 token requests answer 503)': { start: (e) => e.injectFault({ kind: 'tokenOutage', count: 3 }), lastsMs: null },
    'a request hung to the 30 s timeout': { start: (e) => e.injectFault({ kind: 'hang', count: 1, path: '/users/' }), lastsMs: null },
  };
  const wanted = process.env.PB_FAULTS ? process.env.PB_FAULTS.split(',') : Object.keys(matrix);
  const rows = [];
  for (const name of Object.keys(matrix)) {
    if (!wanted.some((w) => name.startsWith(w))) continue;
    const fault = matrix[name];
    const hangs = [];
    const emulatorLogger = {
      ...silentLogger,
      debug: (m) => {
        if (m.includes('no answer (fault)')) hangs.push(null);
      },
    };
    const row = await withEmulator(
      USERS,
      async (env) => {
        const { bridge, calls } = makeBridge(env, { timeoutSeconds: 2, maxRequestsPer30s: 1000 });
        let hungSince = null;
        const settle = async () => {
          await yieldLoop();
          if (hangs.length > 0 && hungSince === null) hungSince = env.clock.now();
          if (hungSince !== null) {
            if (env.clock.now() < hungSince + HANG_MS) return; // the hung request is still out: time moves on
            hangs.length = 0;
            hungSince = null;
          }
          await bridge.whenIdle();
          await yieldLoop();
        };
        await bridge.start();
        for (const u of env.users) bridge.setIntent(u.key, 'homekit', { kind: 'set', pair: PAIRS.Available, at: env.clock.now() });
        await settle();
        const random = seeded(7);
        const episodes = [];
        for (let h = 1; h < HOURS; h += 2) episodes.push(START + h * HOUR + Math.floor(random() * 2 * HOUR));
        let next = 0;
        let endAt = null;
        let faded = 0;
        let samples = 0;
        await env.clock.run(START + HOURS * HOUR, 1000, settle, (now) => {
          if (fault && next < episodes.length && now >= episodes[next]) {
            fault.start(env.emulator);
            if (fault.lastsMs !== null) endAt = now + fault.lastsMs;
            next++;
          }
          if (endAt !== null && now >= endAt) {
            env.emulator.clearFaults();
            endAt = null;
          }
          if ((now - START) % 10_000 !== 0 || now < START + 10_000) return;
          for (const u of env.users) {
            samples++;
            const p = env.emulator.presenceOf(u.id);
            if (p.availability !== 'Available' || p.activity !== 'Available') faded++;
          }
        });
        const sets = calls.filter((c) => c.operation === 'setPresence');
        const ok = sets.filter((c) => c.ok).length;
        await bridge.stop();
        return { name, perUserHour: (sets.length - USERS) / USERS / HOURS, okPerUserHour: (ok - USERS) / USERS / HOURS, failed: sets.length - ok, faded, samples, episodes: fault ? next : 0 };
      },
      { throttleLimit: 0, logger: emulatorLogger },
    );
    rows.push(row);
    console.error(`faults: ${name} done`);
  }
  console.log(`\n## Available held under faults: ${USERS} users, ${HOURS} simulated hours, presence sampled every 10 s (build ${distDir})\n`);
  console.log('| fault (each recurring every 2 h) | episodes | setPresence per user-hour (all / answered 200) | ratio to the minimum (12) | failed calls | samples not Available |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.episodes} | ${r.perUserHour.toFixed(2)} / ${r.okPerUserHour.toFixed(2)} | ${(r.perUserHour / 12).toFixed(2)} | ${r.failed} | ${r.faded} of ${r.samples} |`);
}

const scenarios = { steady, burst, latency, scale, faults };
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(scenarios);
console.log(`# publisher benchmark, node ${process.version}, ${new Date().toISOString()}`);
for (const name of wanted) {
  if (!scenarios[name]) throw new Error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
  await scenarios[name]();
}
