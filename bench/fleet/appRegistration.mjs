// One size of the per-app-registration run (issue 19 sizing), in one process on a moved clock:
// three fleet shards (createFleet, the daemon's own path) sharing one app registration, users
// from an Entra group in the emulator (its Graph throttle ON at 1,500 presence requests per 30 s
// per app), an MQTT input template on a real Mosquitto, every user asserting one presence at once
// at the start and holding it for FLEET_MINUTES simulated minutes (default 60).
//
//   node bench/fleet/appRegistration.mjs USERS STATE OUT.json     (STATE: busy | available)
//
// Started by bench/fleet/run.mjs, one process per size, so that sizes do not share a heap.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import mqtt from 'mqtt';
import { startMosquitto } from '../compare/helpers.mjs';
import { HOUR, MINUTE, QuantumClock, START, load, maxInWindow, requireBuild } from './lib.mjs';

requireBuild();
const [usersArg, stateArg = 'busy', outFile] = process.argv.slice(2);
const USERS = Number(usersArg);
const SHARDS = Number(process.env.FLEET_SHARDS ?? 3);
const BUDGET = Number(process.env.FLEET_BUDGET ?? 1200); // examples/kubernetes: 80 % of Graph's 1,500
const GRAPH_LIMIT = Number(process.env.FLEET_GRAPH_LIMIT ?? 1500); // Graph's documented floor per app per 30 s
const MINUTES = Number(process.env.FLEET_MINUTES ?? 60);
const QUANTUM_MS = Number(process.env.FLEET_QUANTUM_MS ?? 200);
const STATES = {
  busy: { message: 'ON', pair: 'Busy/InACall', fadeMs: HOUR },
  available: { message: 'AVAILABLE', pair: 'Available/Available', fadeMs: 5 * MINUTE },
};
const held = STATES[stateArg];
if (!Number.isInteger(USERS) || USERS < 1 || !held) throw new Error('usage: appRegistration.mjs USERS busy|available OUT.json');

const { startEmulator } = await load('emulator/index.js');
const { emulatorConfigBlock } = await load('emulator/configBlock.js');
const { createFleet } = await load('fleet/index.js');
const { validateConfig } = await load('configuration.js');

const progress = (...a) => console.error(`[${USERS} ${stateArg}]`, ...a);
const problems = [];
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m) => problems.length < 20 && problems.push(`warn ${m}`),
  error: (m) => problems.length < 20 && problems.push(`error ${m}`),
};
const yieldLoop = () => new Promise((resolve) => setImmediate(resolve));

const clock = new QuantumClock(START);
const work = await mkdtemp(join(tmpdir(), 'pb-fleet-bench-'));
const emulator = await startEmulator({ clock, port: 0, host: '127.0.0.1', throttleLimit: GRAPH_LIMIT, appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
const members = emulator.addUsers(Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `desk${String(i).padStart(5, '0')}@contoso.example` })));
const group = emulator.addGroup({ displayName: 'All desks', members: members.map((m) => m.id) });
const keyOf = new Map(members.map((m, i) => [m.id, `desk${String(i).padStart(5, '0')}`]));
const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000', 'max_inflight_messages 1000'] });
const desk = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'bench-desks' });

const checked = validateConfig({
  name: 'presence-bridge',
  ...emulatorConfigBlock(emulator, { graph: { expiration: 'PT1H', maxRequestsPer30s: BUDGET, pollSeconds: 0 } }),
  userGroups: [{ id: group.id, refreshMinutes: 15 }],
  mqtt: { url: broker.url, clientId: 'presence-bridge', homeAssistant: false, commandTopics: false },
  inputs: [{ type: 'mqtt', name: 'Headset', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', AVAILABLE: 'Available/Available', OFF: 'clear' } }],
  onShutdown: 'keep',
});
if (!checked.ok) throw new Error(checked.errors.join('; '));

const calls = [];
const bridges = [];
const fleets = [];
const wall0 = performance.now();
try {
  for (let index = 0; index < SHARDS; index++) {
    const fleet = await createFleet(checked.config, {
      logger,
      clock,
      storagePath: work,
      shard: { index, count: SHARDS },
      onBridge: (bridge) => {
        bridges[index] = bridge;
        bridge.events.on('graphCall', (c) => {
          if (c.operation === 'setPresence') calls.push({ shard: index, user: c.userKey, ok: c.ok, status: c.status, at: c.startedAt });
        });
        return Promise.resolve();
      },
    });
    fleets.push(fleet);
    await fleet.start();
  }
  const usersPerShard = bridges.map((b) => b.states().length);
  progress(`shards started with ${usersPerShard.join(' / ')} users`);

  // Graph's view: arrival times of setPresence at the emulator (its log holds 10,000 entries, so it is drained every quantum)
  const arrivals = [];
  let throttledAtGraph = 0;
  const drain = () => {
    for (const r of emulator.requestLog()) {
      if (!r.route.endsWith('/presence/setPresence')) continue;
      arrivals.push(r.at);
      if (r.status === 429) throttledAtGraph++;
    }
    emulator.clearRequestLog();
  };
  const settle = async () => {
    await yieldLoop();
    await Promise.all(bridges.map((b) => b.whenIdle()));
    await yieldLoop();
    drain();
  };

  // Every user asserts at once (retained, so a message racing a subscription is still delivered).
  const publishStarted = performance.now();
  await Promise.all(members.map((m) => desk.publishAsync(`desk/${keyOf.get(m.id)}/hook`, held.message, { qos: 1, retain: true })));
  const wanting = () => bridges.reduce((n, b) => n + b.states().filter((s) => s.desired !== null).length, 0);
  for (let waited = 0; wanting() < USERS; waited += 100) {
    if (waited > 120_000) throw new Error(`only ${wanting()} of ${USERS} users got their input in 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  progress(`all ${USERS} inputs delivered in ${((performance.now() - publishStarted) / 1000).toFixed(1)} s (real time)`);

  let samples = 0;
  let notShowing = 0;
  const usersNotShowing = new Set();
  const heldSince = new Map();
  let lastSample = START;
  await clock.run(START + MINUTES * MINUTE, QUANTUM_MS, settle, (now) => {
    if (now - lastSample < MINUTE) return;
    lastSample = now;
    if ((now - START) % (10 * MINUTE) === 0) progress(`${(now - START) / MINUTE} simulated min, ${((performance.now() - wall0) / 1000).toFixed(0)} s`);
    for (const m of members) {
      const p = emulator.presenceOf(m.id);
      const showing = `${p.availability}/${p.activity}` === held.pair;
      if (!heldSince.has(m.id)) {
        if (showing) heldSince.set(m.id, now);
        continue;
      }
      samples++;
      if (!showing) {
        notShowing++;
        usersNotShowing.add(m.id);
      }
    }
  });
  drain();

  // Per user: first successful set (the start) and gaps between successful sets longer than the fade
  const byUser = new Map();
  for (const c of calls) if (c.ok) (byUser.get(c.user) ?? byUser.set(c.user, []).get(c.user)).push(c.at);
  let fades = 0;
  const fadedUsers = new Set();
  const firstSet = [];
  for (const [user, times] of byUser) {
    times.sort((a, b) => a - b);
    firstSet.push(times[0] - START);
    for (let i = 1; i <= times.length; i++) {
      const next = i < times.length ? times[i] : START + MINUTES * MINUTE;
      if (next - times[i - 1] > held.fadeMs) {
        fades++;
        fadedUsers.add(user);
      }
    }
  }
  firstSet.sort((a, b) => a - b);
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  const steadyFrom = START + Math.max(MINUTES - 30, MINUTES / 2) * MINUTE;
  const steady = times.filter((t) => t >= steadyFrom);
  arrivals.sort((a, b) => a - b);
  const result = {
    users: USERS,
    state: held.pair,
    shards: SHARDS,
    usersPerShard,
    budget: BUDGET,
    graphLimit: GRAPH_LIMIT,
    minutes: MINUTES,
    quantumMs: QUANTUM_MS,
    setPresence: calls.length,
    failed: calls.filter((c) => !c.ok).length,
    throttled: calls.filter((c) => c.status === 429).length,
    throttledAtGraph,
    perUserHour: calls.length / USERS / (MINUTES / 60),
    perUserHourSteady: steady.length / USERS / ((START + MINUTES * MINUTE - steadyFrom) / HOUR),
    peak30sGranted: maxInWindow(times),
    peak30sAtGraph: maxInWindow(arrivals),
    peak30sSteady: maxInWindow(steady),
    peak30sPerShard: Array.from({ length: SHARDS }, (_, i) => maxInWindow(calls.filter((c) => c.shard === i).map((c) => c.at).sort((a, b) => a - b))),
    usersNeverSet: USERS - byUser.size,
    startAllHeldS: byUser.size === USERS ? firstSet[firstSet.length - 1] / 1000 : null,
    startHalfHeldS: firstSet.length > 0 ? firstSet[Math.floor(USERS / 2)] / 1000 : null,
    fades,
    fadedUsers: fadedUsers.size,
    samples,
    samplesNotShowing: notShowing,
    usersNotShowing: usersNotShowing.size,
    problems,
    wallS: (performance.now() - wall0) / 1000,
    cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  };
  progress(JSON.stringify({ ...result, problems: problems.length }));
  if (outFile) await writeFile(outFile, JSON.stringify(result, null, 2));
} finally {
  for (const f of fleets) await f.stop().catch(() => undefined);
  await desk.endAsync(true);
  await broker.close();
  await emulator.close();
  await rm(work, { recursive: true, force: true });
}
