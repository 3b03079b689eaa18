import mqtt from 'mqtt';
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import type { BridgeEvents, GraphCallEvent } from '../../src/bridgeTypes.js';
import { TypedEvents } from '../../src/events.js';
import { BridgeMetrics, metricsFeature } from '../../src/metrics/index.js';
import { validateConfig } from '../../src/configuration.js';
import { ManualClock } from '../../src/shared/clock.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { emulatorConfig, emulatorOn, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { changed, waitFor } from '../mqtt/support.js';
import { parsePrometheusText, sampleValue, type Family } from './promText.js';
import { serveRoutes } from './routeServer.js';

/**
 * Issue 19 item 5: the metrics feature, scraped over real HTTP from a bridge on the emulator after
 * real traffic (a real Mosquitto input, the emulator answering, one 429 from its fault injection)
 * and read by the strict text-format parser. The route table is served by a minimal node:http
 * server (routeServer.ts) until the one local HTTP server is merged.
 */

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.close();
});

const cleanups = cleanupAfterEach();

async function scrape(url: string): Promise<{ contentType: string | null; families: Map<string, Family> }> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return { contentType: response.headers.get('content-type'), families: parsePrometheusText(await response.text()) };
}

describe('GET /metrics (issue 19)', () => {
  it('counts Graph requests by outcome, the 429, renew lag, users by health, input messages and dropped payloads', async () => {
    const clock = new ManualClock();
    const emulator = await emulatorOn(clock, cleanups);
    const base = 'metrics-e2e';
    const [alex, blair] = emulator.users;
    const config = emulatorConfig(emulator, {
      graph: { expiration: 'PT1H', pollSeconds: 0 },
      users: [
        { key: 'alex', id: alex!.id },
        { key: 'blair', id: blair!.id },
      ],
      mqtt: { url: broker.url, baseTopic: base, clientId: `bridge-${base}` },
      inputs: [{ name: 'Desk', type: 'mqtt', topic: `${base}-desk/alex`, user: 'alex', map: { busy: 'Busy/InACall', off: 'clear' } }],
      metrics: { enabled: true },
    });
    const routes = new RouteTable();
    const logger = capturingLogger();
    const bridge = createBridge(config, { logger, clock, storagePath: await storageDir('pb-metrics-', cleanups), routes, random: () => 0.5 });
    const calls: GraphCallEvent[] = [];
    bridge.events.on('graphCall', (call) => {
      calls.push(call);
      changed();
    });
    bridge.events.on('state', changed);
    bridge.events.on('signal', changed);
    bridge.events.on('dropped', changed);
    const server = await serveRoutes(routes);
    cleanups.push(() => server.close());
    await bridge.start();
    cleanups.push(() => stopMovingClock(bridge, clock));

    const client = await mqtt.connectAsync(broker.url, { clientId: `metrics-test-${Date.now()}` });
    cleanups.push(() => client.endAsync());
    let online = false;
    client.on('message', (topic, payload) => {
      if (topic === `${base}/status` && payload.toString() === 'online') online = true;
      changed();
    });
    await client.subscribeAsync(`${base}/status`);
    await waitFor(() => online, 'the bridge online on MQTT', 20_000, () => clock.advance(100));

    // real traffic: a mapped value, a value no mapping takes, and a binary payload the guard drops
    const seen = { signals: 0, drops: 0 };
    bridge.events.on('signal', () => seen.signals++);
    bridge.events.on('dropped', () => seen.drops++);
    await client.publishAsync(`${base}-desk/alex`, 'busy');
    await client.publishAsync(`${base}-desk/alex`, 'wobble');
    await client.publishAsync(`${base}-desk/alex`, Buffer.from([0x62, 0x01, 0x02]));
    await waitFor(() => seen.signals === 2 && seen.drops === 1 && bridge.state('alex')?.confirmed?.availability === 'Busy', 'signals, the drop and Busy at Graph', 20_000);

    // the renewal is due; Graph throttles it once (Retry-After 20 s), the retry succeeds later
    const due = bridge.state('alex')!.nextRenewalAt!;
    expect(due).toBeGreaterThan(clock.now());
    emulator.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 20, count: 1 });
    await clock.advance(due - clock.now());
    const renewed = (): GraphCallEvent | undefined => calls.find((c) => c.operation === 'setPresence' && c.ok && c.startedAt >= due);
    await waitFor(() => renewed() !== undefined, 'the renewal after the 429', 30_000, () => clock.advance(1000));
    const throttled = calls.filter((c) => c.status === 429);
    expect(throttled).toHaveLength(1);
    const lagSeconds = (renewed()!.startedAt - due) / 1000;
    expect(lagSeconds).toBeGreaterThanOrEqual(20);

    const { contentType, families } = await scrape(server.url);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const value = (family: string, labels: Record<string, string>, name = family): number | undefined => sampleValue(families, family, name, labels);
    const okSets = calls.filter((c) => c.operation === 'setPresence' && c.ok).length;
    expect(okSets).toBe(2);
    expect(value('presence_bridge_graph_requests_total', { operation: 'setPresence', outcome: 'ok', code: 'none' })).toBe(okSets);
    expect(value('presence_bridge_graph_requests_total', { operation: 'setPresence', outcome: '4xx', code: throttled[0]!.errorCode! })).toBe(1);
    expect(value('presence_bridge_graph_throttled_total', { operation: 'setPresence' })).toBe(1);
    expect(value('presence_bridge_renew_lag_seconds', {}, 'presence_bridge_renew_lag_seconds_count')).toBe(1);
    expect(value('presence_bridge_renew_lag_seconds', {}, 'presence_bridge_renew_lag_seconds_sum')).toBeCloseTo(lagSeconds, 6);
    expect(value('presence_bridge_renew_lag_seconds', { le: '15' }, 'presence_bridge_renew_lag_seconds_bucket')).toBe(0);
    expect(value('presence_bridge_renew_lag_seconds', { le: '+Inf' }, 'presence_bridge_renew_lag_seconds_bucket')).toBe(1);
    expect(value('presence_bridge_users', { health: 'ok' })).toBe(bridge.states().filter((s) => s.health === 'ok').length);
    expect(['ok', 'pending', 'retrying', 'unhealthy'].map((health) => value('presence_bridge_users', { health }) ?? NaN).reduce((a, b) => a + b, 0)).toBe(2);
    expect(value('presence_bridge_input_messages_total', { outcome: 'mapped' })).toBe(1);
    expect(value('presence_bridge_input_messages_total', { outcome: 'ignored' })).toBe(1);
    expect(value('presence_bridge_dropped_payloads_total', { source: 'mqtt', reason: 'binary' })).toBe(1);
    expect(value('presence_bridge_instance_info', { instance: config.name, shard: '0', shards: '1' })).toBe(1);
    // every family has its HELP; no process metrics unless asked
    for (const family of families.values()) expect(family.help, family.name).toBeTruthy();
    expect([...families.keys()].some((name) => name.startsWith('process_') || name.startsWith('nodejs_'))).toBe(false);
  });

  it('keeps each bridge\'s metrics in a registry of its own, never the global one', async () => {
    const logger = capturingLogger();
    const make = (id: string): { events: TypedEvents<BridgeEvents>; metrics: BridgeMetrics } => {
      const events = new TypedEvents<BridgeEvents>(logger);
      const metrics = new BridgeMetrics({ events: events.listenOnly(), bridge: { states: () => [] }, instance: { id, shard: { index: 0, count: 1 } }, processMetrics: true });
      metrics.start();
      return { events, metrics };
    };
    const one = make('one');
    const two = make('two');
    one.events.emit('dropped', { source: 'serial', input: 'Headset', reason: 'lineTooLong' });
    const first = parsePrometheusText((await one.metrics.text()).body);
    const second = parsePrometheusText((await two.metrics.text()).body);
    expect(sampleValue(first, 'presence_bridge_dropped_payloads_total', 'presence_bridge_dropped_payloads_total', { source: 'serial', reason: 'lineTooLong' })).toBe(1);
    expect(second.get('presence_bridge_dropped_payloads_total')?.samples).toEqual([]);
    expect(sampleValue(second, 'presence_bridge_instance_info', 'presence_bridge_instance_info', { instance: 'two', shard: '0', shards: '1' })).toBe(1);
    // process metrics on request, in each registry
    expect(first.has('process_cpu_user_seconds_total') && second.has('process_cpu_user_seconds_total')).toBe(true);
    expect(globalRegistry.getMetricsAsArray().some((m) => m.name.startsWith('presence_bridge_'))).toBe(false);
    one.metrics.stop();
    two.metrics.stop();
    one.events.emit('dropped', { source: 'serial', input: 'Headset', reason: 'lineTooLong' });
    expect(sampleValue(parsePrometheusText((await one.metrics.text()).body), 'presence_bridge_dropped_payloads_total', 'presence_bridge_dropped_payloads_total', { source: 'serial', reason: 'lineTooLong' })).toBe(1);
  });
});

describe('the metrics section', () => {
  const base = { auth: { mode: 'application', tenantId: '00000000-0000-0000-0000-000000000000', clientId: '11111111-1111-1111-1111-111111111111', clientSecret: 'not-a-real-secret' }, users: [{ key: 'alex', id: '22222222-2222-2222-2222-222222222222' }] };
  const checked = (extra: Record<string, unknown>): { warnings: string[]; selected: unknown } => {
    const result = validateConfig({ ...base, ...extra });
    if (!result.ok) throw new Error(result.errors.join('; '));
    const warnings: string[] = [];
    metricsFeature.check?.(result.config, { error: (path, message) => warnings.push(`error ${path} ${message}`), warning: (path, message) => warnings.push(`${path} ${message}`) });
    return { warnings, selected: metricsFeature.select(result.config) };
  };

  it('defaults to enabled, open, without process metrics; is off when absent, empty (an untouched form section) or disabled', () => {
    expect(checked({ metrics: { access: 'open' }, http: { port: 8080 } })).toEqual({ warnings: [], selected: { enabled: true, access: 'open', processMetrics: false } });
    expect(checked({}).selected).toBeNull();
    expect(checked({ metrics: {} }).selected).toBeNull();
    expect(checked({ metrics: { enabled: false } }).selected).toBeNull();
  });

  it('warns when nothing would serve /metrics (no http section)', () => {
    expect(checked({ metrics: { enabled: true } }).warnings).toEqual(['metrics metrics are served by the local HTTP server: add an http section (port) or nothing serves /metrics']);
  });

  it('refuses an unknown access mode with its path', () => {
    const result = validateConfig({ ...base, metrics: { access: 'public' } });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.join('\n')).toMatch(/metrics\.access/);
  });
});

describe('the strict text-format parser', () => {
  const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 1\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
  it('reads a valid body, label escapes included', () => {
    const families = parsePrometheusText(good);
    expect(families.get('a_total')?.samples[0]?.labels).toEqual({ x: 'q"\\\n' });
  });
  it.each([
    ['a counter without _total', '# TYPE a counter\na 1\n'],
    ['two TYPE lines', '# TYPE a gauge\n# TYPE a gauge\na 1\n'],
    ['a sample without TYPE', 'a 1\n'],
    ['a bad metric name', '# TYPE 1a gauge\n1a 1\n'],
    ['a bad label escape', '# TYPE a gauge\na{x="\\t"} 1\n'],
    ['an unquoted label value', '# TYPE a gauge\na{x=1} 1\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf that is not _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['a family split in two', '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="y"} 2\n'],
    ['a sample twice', '# TYPE a gauge\na 1\na 2\n'],
    ['a bad value', '# TYPE a gauge\na one\n'],
    ['no final line feed', '# TYPE a gauge\na 1'],
  ])('rejects %s', (_what, body) => {
    expect(() => parsePrometheusText(body)).toThrow();
  });
});
