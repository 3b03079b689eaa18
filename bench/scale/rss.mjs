// Resident memory of the bridge against the floor (bench/compare/floor.mjs), the same load as
// bench/compare (3,000 users, 1, 100 and 300 msg/s at QoS 1 through a stock Mosquitto), without
// Node-RED and without latency matching: a shorter run for the memory work of issue 16.
//
//   node bench/scale/rss.mjs            (after npm run build)
//   RSS_CONTENDERS=floor,bridge (default)   RSS_USERS=3000   RSS_SECONDS=12,8,6
//   RSS_BRIDGE_ENV='{"PRESENCE_BRIDGE_NODE_OPTIONS":""}'  extra environment for the bridge (this: Node's defaults)
// Prints one line per contender: RSS after start and after warm-up, the peak during each rate, and
// the CPU per 1,000 signals at each rate (the cost of any memory trade).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from '../compare/helpers.mjs';
import { WORK, appToken, bridgeConfig, fmt, procStats, publishPaced, requireBuild, rssSampler, sleep, startBridgeProcess, startEmulatorChild, startFloor, until } from '../compare/lib.mjs';

requireBuild();
const USERS = Number(process.env.RSS_USERS ?? 3000);
const RATES = [1, 100, 300];
const SECONDS = (process.env.RSS_SECONDS ?? '12,8,6').split(',').map(Number);
const CONTENDERS = (process.env.RSS_CONTENDERS ?? 'floor,bridge').split(',');
const BRIDGE_ENV = JSON.parse(process.env.RSS_BRIDGE_ENV ?? '{}');


async function run(kind, broker, driver) {
  const em = await startEmulatorChild({ users: USERS, throttleLimit: 0 });
  const dir = join(WORK, 'rss', kind);
  await rm(dir, { recursive: true, force: true });
  const system =
    kind === 'bridge'
      ? await startBridgeProcess(bridgeConfig({ facts: em.facts, brokerUrl: broker.url, users: USERS, graph: { maxRequestsPer30s: 1_000_000 } }), dir, BRIDGE_ENV)
      : await startFloor({ facts: em.facts, brokerUrl: broker.url, users: USERS, token: await appToken(em.facts) }, dir);
  const out = { kind, rates: {} };
  try {
    await sleep(1000);
    out.startKb = procStats(system.pid).rssKb;
    const cursor = { next: 0, steps: [] };
    await publishPaced(driver, { rate: 20, durationMs: 1000, users: USERS, cursor });
    await sleep(2000);
    out.warmKb = procStats(system.pid).rssKb;
    const sampler = rssSampler(system.pid);
    for (const [i, rate] of RATES.entries()) {
      sampler.reset();
      const cpu0 = procStats(system.pid).cpuMs;
      const signals = await publishPaced(driver, { rate, durationMs: SECONDS[i] * 1000, users: USERS, cursor });
      await sleep(2000);
      out.rates[rate] = { peakKb: sampler.peak(), endKb: procStats(system.pid).rssKb, cpuMsPer1000: ((procStats(system.pid).cpuMs - cpu0) / signals.length) * 1000 };
      await em.drain();
    }
    sampler.stop();
  } finally {
    await system.stop();
    await em.close();
  }
  return out;
}

const broker = await startMosquitto();
const driver = mqtt.connect(broker.url, { clientId: `bench-rss-${process.pid}` });
await until(() => driver.connected, 'driver');
const results = [];
try {
  for (const kind of CONTENDERS) results.push(await run(kind, broker, driver));
} finally {
  await driver.endAsync();
  await broker.close();
}
const floor = results.find((r) => r.kind === 'floor');
console.log(`| contender | start MiB | after warm-up MiB | ${RATES.map((r) => `${r}/s peak MiB`).join(' | ')} | ${RATES.map((r) => `${r}/s CPU ms per 1,000`).join(' | ')} |`);
for (const r of results) {
  const cells = RATES.map((rate) => {
    const x = r.rates[rate];
    const ratio = floor ? ` (${fmt(x.peakKb / floor.rates[rate].peakKb, 2)}×)` : '';
    return `${fmt(x.peakKb / 1024)}${ratio}`;
  });
  const cpu = RATES.map((rate) => fmt(r.rates[rate].cpuMsPer1000, 0));
  console.log(`| ${r.kind} | ${fmt(r.startKb / 1024)} | ${fmt(r.warmKb / 1024)} | ${cells.join(' | ')} | ${cpu.join(' | ')} |`);
}
