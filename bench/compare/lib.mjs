// Shared pieces of the side-by-side and scale benchmarks: the emulator in a child process, the
// bridge and Node-RED as separate processes, /proc readings, a paced MQTT publisher, and the
// signal-to-request matching. Plain Node (22.18+ strips the types of the test helpers it imports).
import { fork, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'undici';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = process.env.PRESENCE_BRIDGE_DIST ?? join(ROOT, 'dist');
export const WORK = join(ROOT, 'bench/.work');
export const NODE_RED_DIR = join(WORK, 'node-red');
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export const STATES = [
  { value: 'busy', pair: 'Busy/InACall' },
  { value: 'dnd', pair: 'DoNotDisturb/Presenting' },
  { value: 'away', pair: 'Away/Away' },
  { value: 'available', pair: 'Available/Available' },
];
export const MAP = Object.fromEntries(STATES.map((s) => [s.value, s.pair]));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function requireBuild() {
  if (!existsSync(join(DIST, 'cli/main.js')) || !existsSync(join(DIST, 'emulator/index.js'))) {
    throw new Error(`no build in ${DIST}: run npm run build first`);
  }
}

/** CPU time (user + system, ms) and resident memory (KiB) of a process, from /proc. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs, rssKb };
}

/** Samples RSS of a pid every `everyMs`; `peak()` and `stop()`. */
export function rssSampler(pid, everyMs = 100) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStats(pid).rssKb);
    } catch {
      // process gone
    }
  }, everyMs);
  return {
    peak: () => peak,
    reset: () => {
      peak = 0;
    },
    stop: () => clearInterval(timer),
  };
}

/** The emulator in its own process. */
export async function startEmulatorChild({ users, throttleLimit }) {
  const child = fork(join(ROOT, 'bench/compare/emulatorChild.mjs'), [DIST, String(users), String(throttleLimit)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map();
  let facts;
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator child exited (${code})`)));
    child.on('message', (m) => {
      if (m.type === 'ready') {
        facts = m.facts;
        resolve();
      } else {
        const w = waiting.get(m.type);
        waiting.delete(m.type);
        w?.(m);
      }
    });
  });
  child.removeAllListeners('exit');
  const ask = (type, reply) =>
    new Promise((resolve) => {
      waiting.set(reply, resolve);
      child.send({ type });
    });
  return {
    facts,
    pid: child.pid,
    drain: () => ask('drain', 'log'),
    presence: async () => (await ask('presence', 'presence')).value,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

/** Waits until `check()` is truthy, polling; throws after `timeoutMs`. */
export async function until(check, what, timeoutMs = 20_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function watchOutput(file) {
  return () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
}

async function stopChild(child, signal = 'SIGTERM', timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** The bridge config for `users` users, each with one MQTT input on bench/u<i>/state. */
export function bridgeConfig({ facts, brokerUrl, users, graph = {}, mqtt = {} }) {
  const app = facts.apps[0];
  return {
    platform: 'PresenceBridge',
    auth: { mode: 'application', tenantId: facts.tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: facts.authorityHost },
    graph: { baseUrl: facts.graphBaseUrl, ...graph },
    tls: { caFile: facts.caCertFile },
    users: facts.users.slice(0, users).map((u, i) => ({ key: `u${i}`, id: u.id })),
    mqtt: { url: brokerUrl, clientId: `bench-bridge-${process.pid}`, ...mqtt },
    inputs: facts.users.slice(0, users).map((_, i) => ({ type: 'mqtt', name: `desk u${i}`, topic: `bench/u${i}/state`, field: 'state', user: `u${i}`, map: MAP })),
    onShutdown: 'keep',
  };
}

/**
 * Resolves on the bridge's live (not retained) `online` status: it publishes that once its
 * subscriptions are granted, so inputs sent after it are not lost. Subscribe before the start.
 */
async function watchOnline(config) {
  const { default: mqtt } = await import('mqtt');
  const topic = `${config.mqtt.baseTopic ?? 'presence-bridge'}/status`;
  const client = await mqtt.connectAsync(config.mqtt.url, { clientId: `bench-status-${process.pid}-${Date.now() % 100000}` });
  let online = false;
  client.on('message', (t, payload, packet) => {
    if (t === topic && !packet.retain && payload.toString() === 'online') online = true;
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { isOnline: () => online, close: () => client.endAsync(true) };
}

/** `presence-bridge run` (the built CLI) as a child process; resolves once it is running and subscribed. */
/**
 * Node flags for the bridge process from the profiling knobs (none by default, so a plain run
 * measures the bridge as users run it):
 * - BENCH_BRIDGE_CPU_PROF=1: `--cpu-prof` into `<dir>/prof` (written when the bridge exits cleanly);
 * - BENCH_BRIDGE_TRACE_GC=1: `--trace-gc` (one line per collection in `<dir>/bridge.log`).
 */
export function profilingFlags(dir) {
  const flags = [];
  if (process.env.BENCH_BRIDGE_CPU_PROF === '1') flags.push('--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`);
  if (process.env.BENCH_BRIDGE_TRACE_GC === '1') flags.push('--trace-gc');
  return flags;
}

export async function startBridgeProcess(config, dir, env = {}) {
  await mkdir(dir, { recursive: true });
  const status = config.mqtt ? await watchOnline(config) : null;
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const logFile = join(dir, 'bridge.log');
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...profilingFlags(dir), join(DIST, 'cli/main.js'), 'run', '--config', configFile, '--storage', dir], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  closeSync(out);
  const output = watchOutput(logFile);
  await until(() => {
    if (child.exitCode !== null) throw new Error(`bridge exited (${child.exitCode}):\n${output()}`);
    return output().includes('running with config') && output().includes('connected to the broker') && (status === null || status.isOnline());
  }, 'the bridge to start', 60_000);
  await status?.close();
  return { pid: child.pid, child, output, stop: () => stopChild(child) };
}

/** A Node-RED flow: mqtt in (bench/+/state) -> function (setPresence body) -> http request. */
export function nodeRedFlow({ facts, brokerPort, users, token, expiration = 'PT1H' }) {
  const ids = Object.fromEntries(facts.users.slice(0, users).map((u, i) => [`u${i}`, u.id]));
  const func = `
const USERS = ${JSON.stringify(ids)};
const MAP = ${JSON.stringify(Object.fromEntries(STATES.map((s) => [s.value, s.pair.split('/')])))};
const key = msg.topic.split('/')[1];
let value;
try { value = JSON.parse(msg.payload).state; } catch (e) { return null; }
const pair = MAP[value];
const id = USERS[key];
if (!pair || !id) return null;
msg.url = ${JSON.stringify(`${facts.graphBaseUrl}/v1.0/users/`)} + id + '/presence/setPresence';
msg.method = 'POST';
msg.headers = { authorization: 'Bearer ${token}', 'content-type': 'application/json' };
msg.payload = { sessionId: ${JSON.stringify(facts.apps[0].clientId)}, availability: pair[0], activity: pair[1], expirationDuration: ${JSON.stringify(expiration)} };
return msg;`;
  return [
    { id: 'tab1', type: 'tab', label: 'presence' },
    {
      id: 'broker1', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(brokerPort), clientid: `bench-nodered-${process.pid}`,
      autoConnect: true, usetls: false, protocolVersion: '5', keepalive: '60', cleansession: true,
    },
    { id: 'in1', type: 'mqtt in', z: 'tab1', name: 'desk', topic: 'bench/+/state', qos: '1', datatype: 'utf8', broker: 'broker1', nl: false, rap: true, rh: 0, inputs: 0, x: 100, y: 100, wires: [['fn1']] },
    { id: 'fn1', type: 'function', z: 'tab1', name: 'setPresence body', func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 300, y: 100, wires: [['http1']] },
    {
      id: 'http1', type: 'http request', z: 'tab1', name: 'Graph', method: 'use', ret: 'txt', paytoqs: 'ignore', url: '', tls: '', persist: true, proxy: '',
      insecureHTTPParser: false, authType: '', senderr: false, headers: [], x: 500, y: 100, wires: [[]],
    },
  ];
}

/** The floor (bench/compare/floor.mjs): a bare mqtt.js subscriber and an undici pool, as a child process. */
export async function startFloor({ facts, brokerUrl, users, token }, dir) {
  await mkdir(dir, { recursive: true });
  const configFile = join(dir, 'floor.json');
  const ids = Object.fromEntries(facts.users.slice(0, users).map((u, i) => [`u${i}`, u.id]));
  await writeFile(configFile, JSON.stringify({ brokerUrl, graphBaseUrl: facts.graphBaseUrl, caCertFile: facts.caCertFile, token, sessionId: facts.apps[0].clientId, ids, map: MAP }), { mode: 0o600 });
  const logFile = join(dir, 'floor.log');
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [join(ROOT, 'bench/compare/floor.mjs'), configFile], { stdio: ['ignore', out, out] });
  closeSync(out);
  const output = watchOutput(logFile);
  await until(() => {
    if (child.exitCode !== null) throw new Error(`floor exited (${child.exitCode}):\n${output()}`);
    return output().includes('ready');
  }, 'the floor to start', 30_000);
  return { pid: child.pid, child, output, stop: () => stopChild(child) };
}

/** Node-RED (installed into bench/.work/node-red) as a child process running `flow`. */
export async function startNodeRed(flow, dir, caCertFile, port) {
  const red = join(NODE_RED_DIR, 'node_modules/node-red/red.js');
  if (!existsSync(red)) throw new Error(`Node-RED is not installed: npm install --prefix ${NODE_RED_DIR} node-red`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flows.json'), JSON.stringify(flow));
  await writeFile(
    join(dir, 'settings.cjs'),
    `module.exports = ${JSON.stringify({
      uiPort: port,
      uiHost: '127.0.0.1',
      flowFile: 'flows.json',
      credentialSecret: false,
      logging: { console: { level: 'info', metrics: false, audit: false } },
      diagnostics: { enabled: false },
      telemetry: { enabled: false },
      editorTheme: { tours: false },
      externalModules: { autoInstall: false },
    })};\n`,
  );
  const logFile = join(dir, 'node-red.log');
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [red, '--userDir', dir, '--settings', join(dir, 'settings.cjs')], {
    stdio: ['ignore', out, out],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertFile },
  });
  closeSync(out);
  const output = watchOutput(logFile);
  await until(() => {
    if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${output()}`);
    return output().includes('Connected to broker');
  }, 'Node-RED to start', 60_000);
  return { pid: child.pid, child, output, stop: () => stopChild(child) };
}

/**
 * Publishes `rate` messages per second for `durationMs`, round-robin over `users` users; each
 * message moves its user to the next state of STATES, so every message is a change. Returns the
 * signals sent: { user, pair, t } with t = Date.now() just before the publish.
 */
export async function publishPaced(client, { rate, durationMs, users, cursor }) {
  const signals = [];
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const start = Date.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) * rate) / 1000) + 1);
    while (sent < due) {
      const user = cursor.next % users;
      const step = (cursor.steps[user] = (cursor.steps[user] ?? -1) + 1);
      cursor.next++;
      const state = STATES[step % STATES.length];
      const t = Date.now();
      client.publish(`bench/u${user}/state`, JSON.stringify({ state: state.value, t }), { qos: 0 });
      signals.push({ user, pair: state.pair, t });
      sent++;
    }
    const nextAt = start + (sent * 1000) / rate;
    await sleep(Math.max(1, Math.min(10, nextAt - Date.now())));
  }
  return signals;
}

/**
 * A user whose messages in a phase were a multiple of the state cycle would end where it started,
 * so a bridge that dropped them all would look right. One more message for each such user makes
 * every touched user's last state differ from its state before the phase.
 */
export function publishTail(client, signals, cursor) {
  const counts = new Map();
  for (const s of signals) counts.set(s.user, (counts.get(s.user) ?? 0) + 1);
  const tail = [];
  for (const [user, n] of counts) {
    if (n % STATES.length !== 0) continue;
    const step = (cursor.steps[user] = (cursor.steps[user] ?? -1) + 1);
    const state = STATES[step % STATES.length];
    const t = Date.now();
    client.publish(`bench/u${user}/state`, JSON.stringify({ state: state.value, t }), { qos: 0 });
    tail.push({ user, pair: state.pair, t });
  }
  return tail;
}

/** Polls Graph until every user holds its last signal; ms it took after `since`, or null past `maxMs`. */
export async function convergence(em, signalsSoFar, since, maxMs = 30_000) {
  const last = lastPairs(signalsSoFar);
  for (;;) {
    const graph = await em.presence();
    const wrong = [...last].filter(([u, pair]) => graph[u] !== pair).length;
    if (wrong === 0) return { ms: Date.now() - since, wrong: 0 };
    if (Date.now() - since > maxMs) return { ms: null, wrong };
    await sleep(200);
  }
}

/**
 * Matches each signal to the first successful setPresence for its user carrying its pair, sent at
 * or after the signal and before that user's next signal asking for the same pair (the states
 * cycle, so a later request with the same pair belongs to that later signal). A signal with no
 * such request was superseded before it was sent (the bridge coalesces) or lost.
 */
export function matchLatencies(signals, requests) {
  const byUser = new Map();
  for (const r of requests) {
    if (r.op !== 'setPresence' || r.status < 200 || r.status >= 300) continue;
    let list = byUser.get(r.user);
    if (!list) byUser.set(r.user, (list = []));
    list.push(r);
  }
  for (const list of byUser.values()) list.sort((a, b) => a.at - b.at);
  const signalsByUser = new Map();
  for (const s of signals) {
    let list = signalsByUser.get(s.user);
    if (!list) signalsByUser.set(s.user, (list = []));
    list.push(s);
  }
  const latencies = [];
  const served = [];
  let unserved = 0;
  for (const [user, list] of signalsByUser) {
    const reqs = byUser.get(user) ?? [];
    list.forEach((s, i) => {
      const nextSame = list.slice(i + 1).find((x) => x.pair === s.pair);
      const limit = nextSame ? nextSame.t : Infinity;
      const r = reqs.find((x) => x.at >= s.t && x.at < limit && x.pair === s.pair);
      if (r) {
        latencies.push(r.at - s.t);
        served.push({ user, t: s.t, ms: r.at - s.t });
      } else unserved++;
    });
  }
  // `served`: each served signal with its publish time, so the slow ones can be lined up with
  // the bridge's log (GC lines, ledger writes, token calls) by timestamp.
  return { latencies, unserved, served };
}

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** The last pair each user was sent. */
export function lastPairs(signals) {
  const last = new Map();
  for (const s of signals) last.set(s.user, s.pair);
  return last;
}

export function fmt(n, digits = 1) {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** An app token from the emulator, for the floor and Node-RED (which do not sign in themselves). */
export async function appToken(facts) {
  const dispatcher = new Agent({ connect: { ca: readFileSync(facts.caCertFile, 'utf8') } });
  const app = facts.apps[0];
  const res = await request(`${facts.authorityHost}/${facts.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'https://graph.microsoft.com/.default' }).toString(),
  });
  const body = await res.body.json();
  await dispatcher.close();
  if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode}`);
  return body.access_token;
}
