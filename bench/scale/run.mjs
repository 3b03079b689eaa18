// Scale benchmark: one `presence-bridge run` process (built CLI) with 1 → 10,000 users, fed
// 1 → 10,000 MQTT messages per second through a real Mosquitto, writing to the emulator in its own
// process (throttle off, the bridge's own budget lifted, so that the process is what saturates).
// Reports CPU, RSS and signal-to-request latency per cell, and where one process saturates.
//
//   bash bench/scale/run.sh        (builds, then runs this; about 3 minutes)
//   node bench/scale/run.mjs       (after npm run build)
//
// Env: SCALE_USERS (1,100,1000,10000), SCALE_RATES (1,100,1000,10000), SCALE_SECONDS (4).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import { startMosquitto } from '../compare/helpers.mjs';
import {
  WORK, bridgeConfig, convergence, fmt, matchLatencies, publishTail, percentile, procStats, publishPaced, requireBuild, rssSampler, sleep, startBridgeProcess, startEmulatorChild, until,
} from '../compare/lib.mjs';

requireBuild();
const list = (v, d) => (v ?? d).split(',').map(Number);
const USERS = list(process.env.SCALE_USERS, '1,100,1000,10000');
const RATES = list(process.env.SCALE_RATES, '1,100,1000,10000');
const SECONDS = Number(process.env.SCALE_SECONDS ?? 4);
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);

/** Drains the emulator log until no presence request arrived for `quietMs`. */
async function settle(em, requests, quietMs = 2000, maxMs = 30_000) {
  const deadline = Date.now() + maxMs;
  let lastChange = Date.now();
  for (;;) {
    const { entries } = await em.drain();
    if (entries.length > 0) {
      requests.push(...entries);
      lastChange = Date.now();
    }
    if (Date.now() - lastChange >= quietMs || Date.now() > deadline) return lastChange;
    await sleep(100);
  }
}

const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] });
const driver = mqtt.connect(broker.url, { clientId: `scale-driver-${process.pid}` });
await until(() => driver.connected, 'driver connection');
const results = { at: new Date().toISOString(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })(), loadavgBefore: loadavg(), cells: [] };

try {
  for (const users of USERS) {
    const em = await startEmulatorChild({ users, throttleLimit: 0 });
    const t0 = Date.now();
    // Default log level (info: one line per presence set), as the daemon runs by default.
    const system = await startBridgeProcess(
      bridgeConfig({ facts: em.facts, brokerUrl: broker.url, users, graph: { maxRequestsPer30s: 1_000_000, pollSeconds: 0 }, mqtt: { homeAssistant: false } }),
      join(WORK, 'scale', `u${users}`),
    );
    const startupMs = Date.now() - t0;
    try {
      await sleep(1500);
      await em.drain();
      const idle0 = procStats(system.pid);
      await sleep(3000);
      const idle1 = procStats(system.pid);
      const idle = { users, startupMs, rssIdleKb: idle1.rssKb, idleCpuPct: ((idle1.cpuMs - idle0.cpuMs) / 3000) * 100 };
      log(`users ${users}: idle`, JSON.stringify(idle));
      const cursor = { next: 0, steps: [] };
      const all = [];
      for (const rate of RATES) {
        const requests = [];
        const pump = setInterval(() => {
          em.drain().then(({ entries }) => requests.push(...entries), () => undefined);
        }, 500);
        const sampler = rssSampler(system.pid);
        const c0 = procStats(system.pid).cpuMs;
        const p0 = Date.now();
        const durationMs = rate === 1 ? Math.max(SECONDS, 6) * 1000 : SECONDS * 1000;
        const signals = await publishPaced(driver, { rate, durationMs, users, cursor });
        const publishMs = Date.now() - p0;
        const achievedRate = (signals.length / publishMs) * 1000;
        signals.push(...publishTail(driver, signals, cursor));
        const c1 = procStats(system.pid).cpuMs;
        clearInterval(pump);
        all.push(...signals);
        const converged = await convergence(em, all, p0 + publishMs, 30_000);
        const lastRequestAt = await settle(em, requests);
        const c2 = procStats(system.pid).cpuMs;
        sampler.stop();
        const { latencies, unserved } = matchLatencies(signals, requests);
        const wrong = converged.wrong;
        const cell = {
          users,
          rate,
          achievedRate,
          signals: signals.length,
          setPresence: requests.filter((r) => r.op === 'setPresence').length,
          served: latencies.length,
          superseded: unserved,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          cpuPctWhilePublishing: ((c1 - c0) / publishMs) * 100,
          cpuMsPer1000: ((c2 - c0) / signals.length) * 1000,
          rssPeakKb: sampler.peak(),
          drainAfterPublishMs: Math.max(0, lastRequestAt - (p0 + publishMs)),
          convergedAfterMs: converged.ms,
          usersWrongAfterSettle: wrong,
          idle,
        };
        results.cells.push(cell);
        log(`users ${users} rate ${rate}`, JSON.stringify(cell));
      }
    } finally {
      await system.stop();
      await em.close();
    }
  }
} finally {
  await driver.endAsync();
  await broker.close();
}
results.loadavgAfter = loadavg();
await writeFile(join(WORK, 'scale-results.json'), JSON.stringify(results, null, 2));

const lines = [];
lines.push(`Run ${results.at} at commit ${results.commit}, ${results.cpus} × ${results.cpuModel}, Node ${results.node}, load average before ${results.loadavgBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${results.loadavgAfter.map((x) => x.toFixed(2)).join(' / ')}.`);
lines.push('');
lines.push('| users | start (s) | idle RSS (MiB) | idle CPU (%) |');
lines.push('| ---: | ---: | ---: | ---: |');
for (const users of USERS) {
  const c = results.cells.find((x) => x.users === users);
  if (c) lines.push(`| ${users.toLocaleString('en-US')} | ${fmt(c.idle.startupMs / 1000)} | ${fmt(c.idle.rssIdleKb / 1024)} | ${fmt(c.idle.idleCpuPct)} |`);
}
lines.push('');
lines.push('| users | msg/s asked (achieved) | setPresence | p50 / p99 latency of sent signals (ms) | superseded | CPU while publishing (% of one core) | CPU per 1,000 signals (ms) | RSS peak (MiB) | every user\'s last state at Graph after the last message (s) | users wrong 30 s after |');
lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of results.cells) {
  lines.push(
    `| ${c.users.toLocaleString('en-US')} | ${c.rate.toLocaleString('en-US')} (${fmt(c.achievedRate, 0)}) | ${c.setPresence} | ${fmt(c.p50)} / ${fmt(c.p99)} | ${c.superseded} | ${fmt(c.cpuPctWhilePublishing, 0)} | ${fmt(c.cpuMsPer1000, 0)} | ${fmt(c.rssPeakKb / 1024)} | ${c.convergedAfterMs === null ? '> 30' : fmt(c.convergedAfterMs / 1000)} | ${c.usersWrongAfterSettle} |`,
  );
}
const report = lines.join('\n');
await writeFile(join(WORK, 'scale-report.md'), `${report}\n`);
console.log(`\n${report}\n`);
