import { afterEach, describe, expect, it } from 'vitest';
import type { BridgeEvents, UserState } from '../../src/bridgeTypes.js';
import { TypedEvents } from '../../src/events.js';
import type { FeatureContext, FeatureDefinition } from '../../src/feature.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { Harness } from './harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A feature that keeps the context it was built with and logs one line when started. */
function probe(name: string, seen: FeatureContext[]): FeatureDefinition<{ readonly users: number }> {
  return {
    name,
    select: (config) => ({ users: config.users.length }),
    create: (_slice, context) => {
      seen.push(context);
      return {
        start: () => {
          context.logger.info('started');
          return Promise.resolve();
        },
        stop: () => Promise.resolve(),
      };
    },
  };
}

describe('the FeatureContext createBridge gives each feature (issue 17)', () => {
  it('carries a prefixed logger, the bridge\'s clock, storage, config, route table, instance and a working HTTP client', async () => {
    const seen: FeatureContext[] = [];
    harness = await Harness.create({ features: [probe('probe', seen)] });
    const h = harness;
    expect(seen).toHaveLength(1);
    const context = seen[0]!;
    expect(h.logger.lines).toContain('info [probe] started');
    expect(context.clock).toBe(h.clock);
    expect(context.storagePath).toBe(h.storage);
    expect(context.config).toBe(h.config);
    expect(context.instance).toEqual({ id: h.config.name, shard: { index: 0, count: 1 } });
    // routes a feature adds are the ones the bridge exposes to the one HTTP server
    context.routes.add('GET', '/probe/:user', (request) => ({ status: 200, body: request.params['user'] }));
    const match = h.bridge.routes.match('GET', '/probe/u0');
    expect(match.kind).toBe('found');
    // a real HTTP client: the emulator answers an unauthenticated Graph call with 401
    const result = await context.http.request({ method: 'GET', url: `${h.emulator.graphBaseUrl}/v1.0/me/presence`, timeoutMs: 5_000, caFile: h.emulator.caCertFile });
    expect(result.status).toBe(401);
  });

  it('uses the route table and instance the caller gives', async () => {
    const seen: FeatureContext[] = [];
    const routes = new RouteTable();
    const { createBridge } = await import('../../src/bridge.js');
    harness = await Harness.create({ features: [], start: false }); // for its emulator and config only
    const bridge = createBridge(harness.config, { logger: harness.logger, clock: harness.clock, storagePath: harness.storage, features: [probe('probe', seen)], routes, instance: { id: 'pod-3', shard: { index: 3, count: 8 } } });
    expect(bridge.routes).toBe(routes);
    expect(bridge.instance).toEqual({ id: 'pod-3', shard: { index: 3, count: 8 } });
    await bridge.start();
    expect(seen[0]?.routes).toBe(routes);
    expect(seen[0]?.instance.shard).toEqual({ index: 3, count: 8 });
    await bridge.stop();
  });

  it('lets a feature listen to the bridge\'s events but never emit one, nor reach the bus through the bridge', async () => {
    const seen: FeatureContext[] = [];
    harness = await Harness.create({ features: [probe('probe', seen)] });
    const h = harness;
    const context = seen[0]!;
    const heard: UserState[] = [];
    context.events.on('state', (state) => heard.push(state));
    await h.signal('desk', 'busy');
    expect(heard.at(-1)?.desired).toEqual({ availability: 'Busy', activity: 'InACall' });

    // the listen-only view has no emit, holds no bus, and cannot be given one
    expect('emit' in context.events).toBe(false);
    expect(Object.isFrozen(context.events)).toBe(true);
    const forged = { ...h.bridge.state('u0')!, desired: { availability: 'Away', activity: 'Away' } } as UserState;
    expect(() => Object.assign(context.events, { emit: () => undefined })).toThrow(TypeError);
    expect(Object.values(context.events).some((value) => value instanceof TypedEvents)).toBe(false);
    // the bridge a feature gets has no events, start or stop, and cannot be given them
    expect('events' in context.bridge).toBe(false);
    expect('start' in context.bridge || 'stop' in context.bridge).toBe(false);
    expect(() => Object.assign(context.bridge, { events: new TypedEvents<BridgeEvents>(h.logger) })).toThrow(TypeError);
    // what it can do goes through the core: an intent, not a forged state
    const before = heard.length;
    context.bridge.setIntent('u0', 'homekit', { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at: h.clock.now() });
    await h.settle();
    expect(heard.slice(before).some((s) => s.desired?.availability === 'DoNotDisturb')).toBe(true);
    expect(heard.some((s) => s === forged)).toBe(false);
  });

  it('a feature whose config slice is absent is never built; one that fails to build is logged with its name and the rest run', async () => {
    const seen: FeatureContext[] = [];
    let built = 0;
    harness = await Harness.create({
      features: [
        {
          name: 'absent',
          select: () => null,
          create: () => {
            built++;
            return { start: () => Promise.resolve(), stop: () => Promise.resolve() };
          },
        },
        {
          name: 'broken',
          select: () => ({}),
          create: () => {
            throw new Error('bad wiring');
          },
        },
        probe('probe', seen),
      ],
    });
    expect(built).toBe(0);
    expect(harness.logger.lines).toContain('error feature "broken" failed to start: bad wiring');
    expect(seen).toHaveLength(1);
  });

  it('a factory-style feature still runs, gets the listen-only bus, and keeps its own log prefix', async () => {
    let events: object | undefined;
    harness = await Harness.create({
      features: [
        (_config, bridge, deps) => {
          events = bridge.events;
          deps.logger.info('[legacy] up');
          return null;
        },
      ],
    });
    expect(events).toBeDefined();
    expect('emit' in events!).toBe(false);
    expect(harness.logger.lines).toContain('info [legacy] up');
  });
});
