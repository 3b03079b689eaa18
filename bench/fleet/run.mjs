// Fleet sizing benchmark (issue 19): users per app registration (moved clock) and per shard
// process (real time). Writes bench/.work/fleet/*.json and bench/.work/fleet/report.md.
//
//   bash bench/fleet/run.sh                 (builds, then runs everything)
//   node bench/fleet/run.mjs [app] [shards] [report]     (after npm run build; default: all three)
//
// Env: FLEET_AVAILABLE_SIZES (6000), FLEET_BUSY_SIZES (4000,8000),
// FLEET_SCALED_SIZES (1500,2000,2500,3000 at a quarter budget), FLEET_SHARD_USERS (1000,2000
// per shard), FLEET_MINUTES (60), FLEET_BUDGET (1200).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT, WORK, commit, fmt, int, requireBuild } from './lib.mjs';

requireBuild();
/** The example's fleet budget: a quarter-scale run's users are shown as the users they stand for at it. */
const FULL_BUDGET = 1200;
const parts = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['app', 'shards', 'report'];
const sizes = (v, d) => (v ?? d).split(',').filter(Boolean).map(Number);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
await mkdir(WORK, { recursive: true });

function node(script, args, env = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bench/fleet', script), ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

if (parts.includes('app')) {
  const meta = { at: new Date().toISOString(), commit: commit(), loadBefore: loadavg() };
  for (const [state, list] of [['available', sizes(process.env.FLEET_AVAILABLE_SIZES, '6000')], ['busy', sizes(process.env.FLEET_BUSY_SIZES, '4000,8000')]]) {
    for (const users of list) node('appRegistration.mjs', [String(users), state, join(WORK, `app-${state}-${users}.json`)]);
  }
  // The limit of Available users, found on a quarter scale: budget and Graph's limit both divided by 4
  for (const users of sizes(process.env.FLEET_SCALED_SIZES, '1500,2000,2500,3000')) {
    node('appRegistration.mjs', [String(users), 'available', join(WORK, `app-available-${users}-quarter.json`)], { FLEET_BUDGET: '300', FLEET_GRAPH_LIMIT: '375' });
  }
  meta.loadAfter = loadavg();
  await writeFile(join(WORK, 'app-meta.json'), JSON.stringify(meta, null, 2));
}
if (parts.includes('shards')) node('shards.mjs', [join(WORK, 'shards.json')]);
if (parts.includes('report')) {
  const report = makeReport();
  await writeFile(join(WORK, 'report.md'), `${report}\n`);
  console.log(report);
}

function makeReport() {
  const read = (f) => JSON.parse(readFileSync(join(WORK, f), 'utf8'));
  const la = (l) => (l ? l.map((x) => x.toFixed(1)).join(' / ') : '?');
  const lines = [`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, shared with other engineers' builds and tests.`, ''];
  const apps = readdirSync(WORK)
    .filter((f) => /^app-(available|busy)-\d+(-quarter)?\.json$/.test(f))
    .map(read)
    .sort((a, b) => b.budget - a.budget || a.state.localeCompare(b.state) || a.users - b.users);
  if (apps.length > 0) {
    const meta = existsSync(join(WORK, 'app-meta.json')) ? read('app-meta.json') : {};
    const a0 = apps[0];
    lines.push(`**Per app registration** (moved clock; ${a0.shards} shards of one fleet in one process sharing one app registration, the fleet's \`graph.maxRequestsPer30s\` split evenly among them, the emulator's throttle on; ${a0.minutes} simulated minutes from the moment every user asserts at once; run ${meta.at ?? '?'} at ${meta.commit ?? '?'}, load average before ${la(meta.loadBefore)}, after ${la(meta.loadAfter)}; counts do not depend on load, wall time does).`);
    lines.push('');
    lines.push('| users | held | fleet budget / Graph limit per 30 s | users per shard | setPresence | per user-hour (whole run) | per user-hour (last 30 min) | peak in any 30 s (app, at Graph) | peak in any 30 s, last 30 min | 429s | fades (gaps past the fade, users) | samples not showing | all users holding after (s) | wall (s) |');
    lines.push('| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of apps) {
      lines.push(`| ${int(r.users)}${r.budget < FULL_BUDGET ? ` (≙ ${int((r.users * FULL_BUDGET) / r.budget)})` : ''} | ${r.state} | ${int(r.budget)} / ${int(r.graphLimit)} | ${r.usersPerShard.map(int).join(' / ')} | ${int(r.setPresence)} | ${fmt(r.perUserHour, 2)} | ${fmt(r.perUserHourSteady, 2)} | ${int(r.peak30sAtGraph)} | ${int(r.peak30sSteady)} | ${int(r.throttledAtGraph)} | ${int(r.fades)} (${int(r.fadedUsers)}) | ${int(r.samplesNotShowing)} of ${int(r.samples)} | ${r.startAllHeldS === null ? `never (${int(r.usersNeverSet)} not set)` : fmt(r.startAllHeldS, 0)} | ${fmt(r.wallS, 0)} |`);
    }
    lines.push('');
  }
  const shardFiles = readdirSync(WORK).filter((f) => /^shards(-[\w]+)?\.json$/.test(f));
  if (shardFiles.length > 0) {
    // several partial runs (FLEET_SHARD_USERS) are shown together, each size once
    const runs = shardFiles.map(read);
    const s = { at: runs.map((r) => r.at).join(', '), loadBefore: runs[0].loadBefore, loadAfter: runs[runs.length - 1].loadAfter, sizes: runs.flatMap((r) => r.sizes).sort((a, b) => a.total - b.total) };
    lines.push(`**Per shard process** (real time; 3 \`presence-bridge run --shard I/3\` processes, the emulator in its own process enforcing 1,500 per 30 s, the fleet budget ${int(s.sizes[0]?.budget ?? 1_000_000)} per 30 s; run ${s.at}, load average before ${la(s.loadBefore)}, after ${la(s.loadAfter)}: times and CPU depend on that load).`);
    lines.push('');
    lines.push('| users (per shard) | spawn to /readyz 200 (s) | RSS ready (MiB) | CPU at rest (% of a core) | every user asserted at once: all held after (s) | CPU of that burst per user (ms) | RSS peak (MiB) | RSS holding (MiB) | CPU holding (% of a core) |');
    lines.push('| --- | --- | --- | --- | ---: | --- | --- | --- | --- |');
    const each = (r, f, d = 0) => r.shards.map((x) => fmt(f(x), d)).join(' / ');
    for (const r of s.sizes) {
      lines.push(`| ${int(r.total)} (${r.shards.map((x) => int(x.users)).join(' / ')}) | ${each(r, (x) => x.readyS, 1)} | ${each(r, (x) => x.rssRestMiB)} | ${each(r, (x) => x.cpuRestPct, 1)} | ${r.allHeldS === null ? `not in 300 (${int(r.holdingAtEnd)} held)` : fmt(r.allHeldS, 1)} | ${each(r, (x) => x.cpuPerUserMs, 1)} | ${each(r, (x) => x.rssPeakMiB)} | ${each(r, (x) => x.rssHoldingMiB)} | ${each(r, (x) => x.cpuHoldingPct, 1)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
