// Memory of the bridge alone (`presence-bridge run`, its own process) at 1 and 10,000 users, each
// user holding a presence (one message per user through Mosquitto, every setPresence answered by
// the emulator in its own process), then a heap snapshot of the bridge (SIGUSR2 with
// --heapsnapshot-signal; the snapshot collects garbage first), summarised by type.
//
//   node bench/scale/heap.mjs          (after npm run build)
//   HEAP_USERS=1,10000 (default)
// Writes bench/.work/heap-report.md; the snapshots stay in bench/.work/heap/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from '../compare/helpers.mjs';
import { STATES, WORK, bridgeConfig, fmt, procStats, requireBuild, sleep, startBridgeProcess, startEmulatorChild, until } from '../compare/lib.mjs';

requireBuild();
const COUNTS = (process.env.HEAP_USERS ?? '1,10000').split(',').map(Number);

/** Self size by (node type, name) from a V8 heap snapshot: objects by constructor, strings, code, … */
function summarise(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const groups = new Map();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]];
    const size = snap.nodes[i + iSize];
    total += size;
    const name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[snap.nodes[i + iName]] : '';
    const key = `${type}${name ? ` ${name}` : ''}`;
    const g = groups.get(key) ?? { key, count: 0, size: 0 };
    g.count++;
    g.size += size;
    groups.set(key, g);
  }
  return { total, groups: [...groups.values()].sort((a, b) => b.size - a.size) };
}

const broker = await startMosquitto();
const driver = mqtt.connect(broker.url, { clientId: `bench-heap-${process.pid}` });
await until(() => driver.connected, 'driver');
const rows = [];
try {
  for (const users of COUNTS) {
    const em = await startEmulatorChild({ users: Math.max(users, 3), throttleLimit: 0 });
    const dir = join(WORK, 'heap', `u${users}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const config = bridgeConfig({ facts: em.facts, brokerUrl: broker.url, users, graph: { maxRequestsPer30s: 1_000_000 } });
    const bridge = await startBridgeProcess(config, dir, { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` });
    try {
      await sleep(2000);
      const idleKb = procStats(bridge.pid).rssKb;
      // one message per user, 1,000 a second: every user then holds Busy/InACall
      for (let i = 0; i < users; i++) {
        driver.publish(`bench/u${i}/state`, JSON.stringify({ state: STATES[0].value }), { qos: 0 });
        if (i % 1000 === 999) await sleep(1000);
      }
      let sets = 0;
      await until(async () => {
        const { entries } = await em.drain();
        sets += entries.filter((e) => e.op === 'setPresence').length;
        return sets >= users;
      }, 'every user set', 120_000, 250);
      await sleep(3000);
      const heldKb = procStats(bridge.pid).rssKb;
      process.kill(bridge.pid, 'SIGUSR2');
      const snapshot = await until(() => readdirSync(dir).find((n) => n.endsWith('.heapsnapshot') && procStats(bridge.pid).rssKb > 0), 'the heap snapshot', 120_000, 500);
      // the file appears at once and grows while V8 writes it: wait until its size holds still
      let size = -1;
      await until(() => {
        const now = statSync(join(dir, snapshot)).size;
        const still = now === size && now > 0;
        size = now;
        return still;
      }, 'the heap snapshot written', 300_000, 2000);
      const summary = summarise(join(dir, snapshot));
      rows.push({ users, idleKb, heldKb, heap: summary });
      console.log(`${users} users: RSS idle ${fmt(idleKb / 1024)} MiB, holding ${fmt(heldKb / 1024)} MiB, heap ${fmt(summary.total / 2 ** 20)} MiB`);
    } finally {
      await bridge.stop();
      await em.close();
    }
  }
} finally {
  await driver.endAsync();
  await broker.close();
}

const lines = [];
lines.push('| users | RSS after start (MiB) | RSS holding a presence for every user (MiB) | live heap in the snapshot (MiB) |');
lines.push('| ---: | ---: | ---: | ---: |');
for (const r of rows) lines.push(`| ${fmt(r.users, 0)} | ${fmt(r.idleKb / 1024)} | ${fmt(r.heldKb / 1024)} | ${fmt(r.heap.total / 2 ** 20)} |`);
if (rows.length >= 2) {
  const [a, b] = [rows[0], rows.at(-1)];
  const n = b.users - a.users;
  lines.push('');
  lines.push(`Per user (difference between ${fmt(a.users, 0)} and ${fmt(b.users, 0)} users, divided by ${fmt(n, 0)}): RSS ${fmt(((b.heldKb - a.heldKb) * 1024) / n / 1024)} KiB, live heap ${fmt((b.heap.total - a.heap.total) / n / 1024)} KiB.`);
  lines.push('');
  lines.push(`Heap growth by type from ${fmt(a.users, 0)} to ${fmt(b.users, 0)} users (self size; the 20 largest):`);
  lines.push('');
  lines.push('| type | count added | bytes added | bytes per user |');
  lines.push('| --- | ---: | ---: | ---: |');
  const before = new Map(a.heap.groups.map((g) => [g.key, g]));
  const growth = b.heap.groups
    .map((g) => ({ key: g.key, count: g.count - (before.get(g.key)?.count ?? 0), size: g.size - (before.get(g.key)?.size ?? 0) }))
    .sort((x, y) => y.size - x.size)
    .slice(0, 20);
  for (const g of growth) lines.push(`| \`${g.key.replace(/\|/g, '/').slice(0, 60)}\` | ${fmt(g.count, 0)} | ${fmt(g.size, 0)} | ${fmt(g.size / n, 0)} |`);
}
const report = lines.join('\n');
await writeFile(join(WORK, 'heap-report.md'), `${report}\n`);
console.log(`\n${report}`);
