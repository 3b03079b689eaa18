// Side-by-side benchmark: this bridge (`presence-bridge run`, built CLI, its own process) against
// a Node-RED flow `mqtt in` -> `function` -> `http request`, on the same Mosquitto, the same
// emulator (its own process) and the same input messages. See BENCHMARKS.md for the method.
//
//   bash bench/compare/run.sh            (builds, installs Node-RED into bench/.work/node-red, runs this)
//   node bench/compare/run.mjs           (after npm run build)
//
// Env: BENCH_USERS (3000), BENCH_SECONDS ("12,8,6": seconds at 1, 100, 300 msg/s).
// Knobs for iterating on one contender (the report needs all three and the extras; with a knob
// set only compare-results.json is written):
//   BENCH_CONTENDERS=bridge        only these (comma list of floor, bridge, node-red)
//   BENCH_RATES=300                only these rates (each must be one of 1, 100, 300)
//   BENCH_EXTRAS=0                 skip the duplicates, the burst and the throttled runs
//   BENCH_BRIDGE_CPU_PROF=1        the bridge runs with --cpu-prof (bench/.work/compare/bridge/prof)
//   BENCH_BRIDGE_TRACE_GC=1        the bridge runs with --trace-gc (lines in its bridge.log)
// Each rate's result also lists its slowest served signals with their publish time (`slowest`),
// to line up with the bridge's log and GC trace.
//
// Contenders: the floor (bench/compare/floor.mjs: a bare mqtt.js subscriber + undici pool, the
// least a program can do for the job), Node-RED, and the bridge.
//
// Workloads: (1) paced, round-robin over BENCH_USERS users so that each user changes at most every
// 3 s even at 1,000 msg/s (a desk changes state every few minutes; the bridge holds a 2 s minimum
// spacing per user on purpose); (2) a burst: 100 users each changing 10 times a second for 4 s,
// where the bridge coalesces to the latest state; (3) Graph's throttle: 1,000 msg/s for 5 s over
// 100 users against the emulator's default 1,500 requests per app per 30 s.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import { startMosquitto, freePort } from './helpers.mjs';
import {
  DIST, MAP, WORK, bridgeConfig, convergence, fmt, publishTail, lastPairs, matchLatencies, nodeRedFlow, percentile, procStats, publishPaced, requireBuild, rssSampler, sleep,
  appToken, startBridgeProcess, startEmulatorChild, startFloor, startNodeRed, until,
} from './lib.mjs';

requireBuild();
const USERS = Number(process.env.BENCH_USERS ?? 3000);
const BURST_USERS = 100;
const ALL_RATES = [1, 100, 300];
const ALL_SECONDS = (process.env.BENCH_SECONDS ?? '12,8,6').split(',').map(Number);
const RATES = process.env.BENCH_RATES ? process.env.BENCH_RATES.split(',').map(Number) : ALL_RATES;
const SECONDS = RATES.map((rate) => ALL_SECONDS[ALL_RATES.indexOf(rate)] ?? 6);
const CONTENDERS = (process.env.BENCH_CONTENDERS ?? 'floor,bridge,node-red').split(',');
const EXTRAS = process.env.BENCH_EXTRAS !== '0';
const PARTIAL = CONTENDERS.length < 3 || RATES.length < ALL_RATES.length || !EXTRAS;
const THROTTLED_RATE = 1000;
const THROTTLED_SECONDS = 5;
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);


async function startSystem(kind, { facts, broker, throttled }) {
  const dir = join(WORK, 'compare', `${kind}${throttled ? '-throttled' : ''}`);
  await rm(dir, { recursive: true, force: true }); // no session ledger or state from an earlier run
  if (kind === 'bridge') {
    // Unthrottled runs lift the bridge's own request budget (default 1,000 per 30 s) so that the
    // figures are the pipeline's; the throttled run keeps every default.
    const graph = throttled ? {} : { maxRequestsPer30s: 1_000_000 };
    return startBridgeProcess(bridgeConfig({ facts, brokerUrl: broker.url, users: USERS, graph }), dir);
  }
  // The token is fetched once by the benchmark (client credentials) and written into the flow.
  const token = await appToken(facts);
  if (kind === 'floor') return startFloor({ facts, brokerUrl: broker.url, users: USERS, token }, dir);
  return startNodeRed(nodeRedFlow({ facts, brokerPort: broker.port, users: USERS, token }), dir, facts.caCertFile, await freePort());
}

/** Collects the emulator's request log until no new presence request arrived for `quietMs`. */
async function settle(em, requests, { quietMs = 3000, maxMs = 60_000 } = {}) {
  const deadline = Date.now() + maxMs;
  let lastChange = Date.now();
  for (;;) {
    const { entries, identity } = await em.drain();
    requests.identity = (requests.identity ?? 0) + identity;
    if (entries.length > 0) {
      requests.push(...entries);
      lastChange = Date.now();
    }
    if (Date.now() - lastChange >= quietMs || Date.now() > deadline) return;
    await sleep(100);
  }
}

async function unthrottledRun(kind, broker, driver) {
  const em = await startEmulatorChild({ users: USERS, throttleLimit: 0 });
  const system = await startSystem(kind, { facts: em.facts, broker, throttled: false });
  const cursor = { next: 0, steps: [] };
  const all = [];
  const result = { kind, rates: {} };
  try {
    await sleep(1000);
    // Warm-up: one change for each of 20 users, so both have connections and JIT warm.
    const warm = await publishPaced(driver, { rate: 20, durationMs: 1000, users: USERS, cursor });
    all.push(...warm);
    await settle(em, []);
    const base = procStats(system.pid);
    result.rssAfterWarmupKb = base.rssKb;
    const sampler = rssSampler(system.pid);
    for (const [i, rate] of RATES.entries()) {
      const cpu0 = procStats(system.pid).cpuMs;
      sampler.reset();
      const requests = [];
      const pump = setInterval(() => {
        em.drain().then(({ entries, identity }) => {
          requests.push(...entries);
          requests.identity = (requests.identity ?? 0) + identity;
        }, () => undefined);
      }, 500);
      const signals = await publishPaced(driver, { rate, durationMs: SECONDS[i] * 1000, users: USERS, cursor });
      signals.push(...publishTail(driver, signals, cursor));
      const endedAt = Date.now();
      all.push(...signals);
      const converged = await convergence(em, all, endedAt, 60_000);
      clearInterval(pump);
      await settle(em, requests);
      const cpu1 = procStats(system.pid).cpuMs;
      const { latencies, unserved, served } = matchLatencies(signals, requests);
      const sets = requests.filter((r) => r.op === 'setPresence');
      const wrong = converged.wrong;
      result.rates[rate] = {
        signals: signals.length,
        setPresence: sets.length,
        failed: sets.filter((r) => r.status >= 300).length,
        served: latencies.length,
        superseded: unserved,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
        cpuMsPer1000: ((cpu1 - cpu0) / signals.length) * 1000,
        cpuMs: cpu1 - cpu0,
        finalStateWrong: wrong,
        convergedAfterMs: converged.ms,
        rssPeakKb: sampler.peak(),
        slowest: served.sort((x, y) => y.ms - x.ms).slice(0, 20).map((x) => ({ ...x, at: new Date(x.t).toISOString() })),
      };
      const { slowest: _slowest, ...shown } = result.rates[rate];
      log(kind, `${rate}/s`, JSON.stringify(shown));
    }
    if (!EXTRAS) return result;
    // Duplicates: every user re-sends the state it is already in (a device re-reporting).
    {
      const requests = [];
      const signals = [];
      const last = new Map([...lastPairs(all)].slice(0, BURST_USERS));
      const cpu0 = procStats(system.pid).cpuMs;
      for (let round = 0; round < 3; round++) {
        for (const [user, pair] of last) {
          const value = Object.entries(MAP).find(([, p]) => p === pair)[0];
          driver.publish(`bench/u${user}/state`, JSON.stringify({ state: value, t: Date.now() }), { qos: 0 });
          signals.push({ user, pair, t: Date.now() });
        }
        await sleep(300);
      }
      await settle(em, requests);
      const cpu1 = procStats(system.pid).cpuMs;
      result.duplicates = { signals: signals.length, setPresence: requests.filter((r) => r.op === 'setPresence').length, cpuMs: cpu1 - cpu0 };
      log(kind, 'duplicates', JSON.stringify(result.duplicates));
    }
    // Burst: users 0..99 change 10 times a second each for 4 s; what counts is the last state.
    {
      const requests = [];
      const pump = setInterval(() => {
        em.drain().then(({ entries }) => requests.push(...entries), () => undefined);
      }, 500);
      const burstCursor = { next: 0, steps: cursor.steps };
      const cpu0 = procStats(system.pid).cpuMs;
      const signals = await publishPaced(driver, { rate: BURST_USERS * 10, durationMs: 4000, users: BURST_USERS, cursor: burstCursor });
      signals.push(...publishTail(driver, signals, burstCursor));
      const endedAt = Date.now();
      all.push(...signals);
      const converged = await convergence(em, signals, endedAt, 60_000);
      clearInterval(pump);
      await settle(em, requests);
      const cpu1 = procStats(system.pid).cpuMs;
      const lastByUser = new Map();
      for (const s of signals) lastByUser.set(s.user, s);
      const ok = requests.filter((r) => r.op === 'setPresence' && r.status < 300);
      const finalLatencies = [];
      // The last successful request of each user must carry its last signal; it may predate the
      // signal when Graph already held that state (nothing to send), which counts as 0 ms.
      for (const [user, s] of lastByUser) {
        const r = ok.filter((x) => x.user === user).sort((a, b) => a.at - b.at).at(-1);
        if (r && r.pair === s.pair) finalLatencies.push(Math.max(0, r.at - s.t));
      }
      result.burst = {
        signals: signals.length,
        setPresence: requests.filter((r) => r.op === 'setPresence').length,
        finalServed: finalLatencies.length,
        finalP50: percentile(finalLatencies, 50),
        finalP99: percentile(finalLatencies, 99),
        usersWrong: converged.wrong,
        convergedAfterMs: converged.ms,
        cpuMs: cpu1 - cpu0,
      };
      log(kind, 'burst', JSON.stringify(result.burst));
    }
    sampler.stop();
    result.rssPeakKb = Math.max(sampler.peak(), ...Object.values(result.rates).map((x) => x.rssPeakKb));
    result.rssEndKb = procStats(system.pid).rssKb;
  } finally {
    await system.stop();
    await em.close();
  }
  return result;
}

async function throttledRun(kind, broker, driver) {
  // Graph's documented floor (1,500 presence requests per app per 30 s), the emulator's default.
  const em = await startEmulatorChild({ users: USERS, throttleLimit: 1500 });
  const system = await startSystem(kind, { facts: em.facts, broker, throttled: true });
  const cursor = { next: 0, steps: [] };
  const requests = [];
  try {
    await sleep(1000);
    await em.drain();
    const pump = setInterval(() => {
      em.drain().then(({ entries }) => requests.push(...entries), () => undefined);
    }, 500);
    const signals = await publishPaced(driver, { rate: THROTTLED_RATE, durationMs: THROTTLED_SECONDS * 1000, users: BURST_USERS, cursor });
    const endedAt = Date.now();
    const last = lastPairs(signals);
    let wrong = BURST_USERS;
    let convergedAfterMs = null;
    // Node-RED retries nothing, so its state cannot change once its requests are answered.
    const waitMs = kind === 'bridge' ? 45_000 : 5_000;
    while (Date.now() - endedAt < waitMs) {
      const graphState = await em.presence();
      wrong = [...last].filter(([user, pair]) => graphState[user] !== pair).length;
      if (wrong === 0) {
        convergedAfterMs = Date.now() - endedAt;
        break;
      }
      await sleep(250);
    }
    clearInterval(pump);
    await settle(em, requests);
    const sets = requests.filter((r) => r.op === 'setPresence');
    const result = {
      kind,
      signals: signals.length,
      setPresence: sets.length,
      throttled429: sets.filter((r) => r.status === 429).length,
      usersWrongAtEnd: wrong,
      convergedAfterMs,
    };
    log(kind, 'throttled', JSON.stringify(result));
    return result;
  } finally {
    await system.stop();
    await em.close();
  }
}

const broker = await startMosquitto();
const driver = mqtt.connect(broker.url, { clientId: `bench-driver-${process.pid}` });
await until(() => driver.connected, 'driver connection');
const results = { at: new Date().toISOString(), users: USERS, seconds: SECONDS, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgBefore: loadavg(), node: process.version, commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })() };
try {
  if (CONTENDERS.includes('floor')) results.floor = await unthrottledRun('floor', broker, driver);
  if (CONTENDERS.includes('bridge')) results.bridge = await unthrottledRun('bridge', broker, driver);
  if (CONTENDERS.includes('node-red')) results.nodeRed = await unthrottledRun('node-red', broker, driver);
  if (EXTRAS && CONTENDERS.includes('node-red')) results.throttledNodeRed = await throttledRun('node-red', broker, driver);
  if (EXTRAS && CONTENDERS.includes('bridge')) results.throttledBridge = await throttledRun('bridge', broker, driver);
  results.loadavgAfter = loadavg();
  const schedule = await import(pathToFileURL(join(DIST, 'presence/renewalSchedule.js')).href);
  const hour = 3_600_000;
  // the calm margin with the default 30 s timeout, where the build has an adaptive one
  const availableMarginMs = schedule.calmRenewalMargin?.(30_000);
  const every = (pair) => schedule.nextRenewalAt({ pair, confirmedAt: 0, expirationMs: hour, availableMarginMs });
  results.renewal = { availableEveryMs: every({ availability: 'Available', activity: 'Available' }), busyEveryMs: every({ availability: 'Busy', activity: 'InACall' }) };
} finally {
  await driver.endAsync();
  await broker.close();
}
await writeFile(join(WORK, 'compare-results.json'), JSON.stringify(results, null, 2));
if (PARTIAL) {
  log(`partial run (${CONTENDERS.join(', ')} at ${RATES.join(', ')} msg/s${EXTRAS ? '' : ', no extras'}): no report; results in bench/.work/compare-results.json`);
  process.exit(0);
}

// ---- report (markdown) ----
const b = results.bridge;
const n = results.nodeRed;
const ratio = (x, y) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? `${fmt(x / y, 2)}` : 'n/a');
const lines = [];
lines.push(`Run ${results.at} at commit ${results.commit}, ${USERS} users, ${results.cpus} × ${results.cpuModel}, Node ${results.node}, load average before ${results.loadavgBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${results.loadavgAfter.map((x) => x.toFixed(2)).join(' / ')}.`);
lines.push('');
const f = results.floor;
lines.push('| rate | contender | p50 ms | p99 ms | CPU per 1,000 signals (ms) | RSS peak MiB | p50 / floor | p99 / floor | p99 / Node-RED | CPU / Node-RED | RSS / floor |');
lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const rate of RATES) {
  for (const [name, c] of [['floor (mqtt.js + undici)', f], ['Node-RED', n], ['presence-bridge run', b]]) {
    const x = c.rates[rate];
    lines.push(
      `| ${rate}/s | ${name} | ${fmt(x.p50)} | ${fmt(x.p99)} | ${fmt(x.cpuMsPer1000, 0)} | ${fmt(x.rssPeakKb / 1024)} | ${ratio(x.p50, f.rates[rate].p50)} | ${ratio(x.p99, f.rates[rate].p99)} | ${ratio(x.p99, n.rates[rate].p99)} | ${ratio(x.cpuMsPer1000, n.rates[rate].cpuMsPer1000)} | ${ratio(x.rssPeakKb, f.rates[rate].rssPeakKb)} |`,
    );
  }
}
lines.push('');
lines.push('| measure | bridge | Node-RED | bridge / Node-RED |');
lines.push('| --- | ---: | ---: | ---: |');
for (const rate of RATES) {
  const br = b.rates[rate];
  const nr = n.rates[rate];
  lines.push(`| latency p50 at ${rate} msg/s (ms) | ${fmt(br.p50)} | ${fmt(nr.p50)} | ${ratio(br.p50, nr.p50)} |`);
  lines.push(`| latency p99 at ${rate} msg/s (ms) | ${fmt(br.p99)} | ${fmt(nr.p99)} | ${ratio(br.p99, nr.p99)} |`);
}
for (const rate of RATES) {
  const br = b.rates[rate];
  const nr = n.rates[rate];
  lines.push(`| CPU per 1,000 signals at ${rate} msg/s (ms) | ${fmt(br.cpuMsPer1000, 0)} | ${fmt(nr.cpuMsPer1000, 0)} | ${ratio(br.cpuMsPer1000, nr.cpuMsPer1000)} |`);
}
lines.push(`| CPU for ${b.duplicates.signals} duplicate messages (ms) | ${fmt(b.duplicates.cpuMs, 0)} | ${fmt(n.duplicates.cpuMs, 0)} | ${ratio(b.duplicates.cpuMs, n.duplicates.cpuMs)} |`);
lines.push(`| RSS after warm-up (MiB) | ${fmt(b.rssAfterWarmupKb / 1024)} | ${fmt(n.rssAfterWarmupKb / 1024)} | ${ratio(b.rssAfterWarmupKb, n.rssAfterWarmupKb)} |`);
lines.push(`| RSS peak (MiB) | ${fmt(b.rssPeakKb / 1024)} | ${fmt(n.rssPeakKb / 1024)} | ${ratio(b.rssPeakKb, n.rssPeakKb)} |`);
lines.push('');
lines.push('| per rate | signals | setPresence sent (bridge / Node-RED) | signals served (bridge / Node-RED) | superseded before sent (bridge / Node-RED) | every user\'s last signal at Graph after (s, bridge / Node-RED) |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
const conv = (x) => (x.convergedAfterMs === null ? `never (${x.finalStateWrong ?? x.usersWrong} wrong)` : fmt(x.convergedAfterMs / 1000));
for (const rate of RATES) {
  const br = b.rates[rate];
  const nr = n.rates[rate];
  lines.push(`| ${rate} msg/s | ${br.signals} | ${br.setPresence} / ${nr.setPresence} | ${br.served} / ${nr.served} | ${br.superseded} / ${nr.superseded} | ${conv(br)} / ${conv(nr)} |`);
}
lines.push(`| duplicates (each user re-sends its current state ×3) | ${b.duplicates.signals} | ${b.duplicates.setPresence} / ${n.duplicates.setPresence} | | | |`);
lines.push('');
lines.push(`Burst: ${BURST_USERS} users each changing 10 times a second for 4 s (${b.burst.signals} signals):`);
lines.push('');
lines.push('| | bridge | Node-RED |');
lines.push('| --- | ---: | ---: |');
lines.push(`| setPresence sent | ${b.burst.setPresence} | ${n.burst.setPresence} |`);
lines.push(`| last signal → its request, p50 / p99 (ms) | ${fmt(b.burst.finalP50)} / ${fmt(b.burst.finalP99)} | ${fmt(n.burst.finalP50)} / ${fmt(n.burst.finalP99)} |`);
lines.push(`| every user's last signal at Graph after (s) | ${conv(b.burst)} | ${conv(n.burst)} |`);
lines.push(`| CPU for the burst (ms) | ${fmt(b.burst.cpuMs, 0)} | ${fmt(n.burst.cpuMs, 0)} |`);
lines.push('');
const tb = results.throttledBridge;
const tn = results.throttledNodeRed;
lines.push(`Under Graph's documented throttle (emulator: 1,500 presence requests per app per 30 s; bridge with its defaults), ${THROTTLED_RATE} msg/s for ${THROTTLED_SECONDS} s:`);
lines.push('');
lines.push('| | bridge | Node-RED |');
lines.push('| --- | ---: | ---: |');
lines.push(`| signals | ${tb.signals} | ${tn.signals} |`);
lines.push(`| setPresence sent | ${tb.setPresence} | ${tn.setPresence} |`);
lines.push(`| answered 429 | ${tb.throttled429} | ${tn.throttled429} |`);
lines.push(`| users whose Graph state ≠ their last signal at the end | ${tb.usersWrongAtEnd} | ${tn.usersWrongAtEnd} |`);
lines.push(`| every user's last signal at Graph after (s) | ${tb.convergedAfterMs === null ? 'never' : fmt(tb.convergedAfterMs / 1000)} | ${tn.convergedAfterMs === null ? 'never (no retry)' : fmt(tn.convergedAfterMs / 1000)} |`);
lines.push('');
const r = results.renewal;
lines.push(`Bridge renewal schedule (PT1H sessions): Available every ${fmt(r.availableEveryMs / 60000, 2)} min = ${fmt(3_600_000 / r.availableEveryMs, 2)} calls/h; Busy/DoNotDisturb/Away every ${fmt(r.busyEveryMs / 60000, 2)} min = ${fmt(3_600_000 / r.busyEveryMs, 2)} calls/h.`);
const report = lines.join('\n');
await writeFile(join(WORK, 'compare-report.md'), `${report}\n`);
console.log(`\n${report}\n`);
log('done; results in bench/.work/compare-results.json and bench/.work/compare-report.md');
