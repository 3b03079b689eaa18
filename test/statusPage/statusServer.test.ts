import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphCallEvent, SignalEvent, UserState } from '../../src/bridgeTypes.js';
import { silentLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/shared/clock.js';
import { RecordingBridge } from '../helpers/recordingBridge.js';
import { userState as blankUserState } from '../helpers/userState.js';
import { MAX_DETAIL_CHARS, Timeline, type StatusSnapshot } from '../../src/statusPage/index.js';
import { startStatusServer, type StatusServer } from '../helpers/statusServer.js';

/*
 * The status server over real HTTP. The bridge side is an in-process object with the real event
 * bus (no protocol boundary there); the browser test and the demo test use the real bridge.
 */

/** The shared blank state, shown under an upper-case display name. */
function userState(key: string, over: Partial<UserState> = {}): UserState {
  return blankUserState(key, { displayName: key.toUpperCase(), ...over });
}

function fakeBridge(): RecordingBridge {
  return new RecordingBridge({ states: [userState('alex')] });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Reads server-sent events until `count` events arrived. */
function readEvents(url: string, count: number, onOpen?: () => void): Promise<{ event: string; data: unknown }[]> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    const req = request(url, (res) => {
      expect(res.headers['content-type']).toContain('text/event-stream');
      let buffer = '';
      let opened = false;
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(frame)?.[1];
          const data = /^data: (.+)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as unknown });
        }
        if (!opened && events.length > 0) {
          opened = true;
          onOpen?.();
        }
        if (events.length >= count) {
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on('error', (error) => {
      if (events.length < count) reject(error);
    });
    req.end();
  });
}

describe('status server', () => {
  let server: StatusServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the page with a strict CSP, a JSON snapshot, and 404 for the rest', async () => {
    const bridge = fakeBridge();
    const clock = new ManualClock();
    server = await startStatusServer(bridge, { port: 0, logger: silentLogger, clock });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const page = await http(server.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(page.body).not.toMatch(/https?:\/\/(?!127)/); // nothing fetched from elsewhere
    const state = JSON.parse((await http(`${server.url}api/state`)).body) as StatusSnapshot;
    expect(state).toMatchObject({ name: 'Presence Bridge', now: clock.now(), timeScale: 1, demo: null, timeline: [] });
    expect(state.users.map((u) => u.userKey)).toEqual(['alex']);
    expect((await http(`${server.url}nope`)).status).toBe(404);
    expect((await http(`${server.url}api/state`, { method: 'DELETE' })).status).toBe(405);
  });

  it('answers only loopback Host names when bound to loopback (no DNS rebinding)', async () => {
    server = await startStatusServer(fakeBridge(), { port: 0, logger: silentLogger });
    expect((await http(`${server.url}api/state`, { headers: { host: 'attacker.example:80' } })).status).toBe(421);
    expect((await http(`${server.url}api/state`, { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
  });

  it('streams a snapshot, then state changes and timeline entries, as server-sent events', async () => {
    const bridge = fakeBridge();
    const clock = new ManualClock();
    server = await startStatusServer(bridge, { port: 0, logger: silentLogger, clock });
    const received = readEvents(`${server.url}events`, 4, () => {
      const busy = userState('alex', { desired: { availability: 'Busy', activity: 'InACall' }, source: 'Desk button' });
      bridge.events.emit('state', busy);
      const signal: SignalEvent = { signal: { input: 'Desk button', value: '{"action":"single"}', at: clock.now() }, userKey: 'alex', intent: { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at: clock.now() } };
      bridge.events.emit('signal', signal);
      const call: GraphCallEvent = { userKey: 'alex', operation: 'setPresence', detail: 'Busy/InACall', ok: true, status: 200, startedAt: clock.now(), durationMs: 12 };
      bridge.events.emit('graphCall', call);
    });
    const events = await received;
    expect(events.map((e) => e.event)).toEqual(['snapshot', 'state', 'timeline', 'timeline']);
    expect(events[1]!.data).toMatchObject({ now: clock.now(), state: { userKey: 'alex', source: 'Desk button' } });
    expect(events[2]!.data).toMatchObject({ entry: { kind: 'signal', title: 'Desk button', detail: '"{\\"action\\":\\"single\\"}" → Busy/InACall', ok: true } });
    expect(events[3]!.data).toMatchObject({ entry: { kind: 'graphCall', title: 'setPresence', detail: 'Busy/InACall ok 200 (12 ms)' } });
    const after = JSON.parse((await http(`${server.url}api/state`)).body) as StatusSnapshot;
    expect(after.timeline.map((e) => e.title)).toEqual(['Desk button', 'setPresence']);
  });

  it('publishes a demo button only for a JSON POST from its own origin with a known id', async () => {
    const published: [string, string][] = [];
    server = await startStatusServer(fakeBridge(), {
      port: 0,
      logger: silentLogger,
      demo: {
        buttons: [{ label: 'Headset off hook', topic: 'desk/headset/hook', payload: 'OFFHOOK' }],
        publish: (topic, payload) => {
          published.push([topic, payload]);
          return Promise.resolve();
        },
      },
    });
    const url = `${server.url}api/demo/publish`;
    const json = { 'content-type': 'application/json' };
    expect((await http(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=b1' })).status).toBe(415);
    expect((await http(url, { method: 'POST', headers: { ...json, origin: 'http://evil.example' }, body: '{"id":"b1"}' })).status).toBe(403);
    expect((await http(url, { method: 'POST', headers: json, body: '{"id":"b9"}' })).status).toBe(400);
    expect((await http(url, { method: 'POST', headers: json, body: 'not json' })).status).toBe(400);
    expect((await http(url, { method: 'POST', headers: json, body: JSON.stringify({ id: 'b1', pad: 'x'.repeat(5000) }) })).status).toBe(413);
    expect(published).toEqual([]);
    const ok = await http(url, { method: 'POST', headers: { ...json, origin: server.url.slice(0, -1) }, body: '{"id":"b1"}' });
    expect(ok.status).toBe(200);
    expect(published).toEqual([['desk/headset/hook', 'OFFHOOK']]);
    const state = JSON.parse((await http(`${server.url}api/state`)).body) as StatusSnapshot;
    expect(state.demo?.buttons).toEqual([{ id: 'b1', label: 'Headset off hook', topic: 'desk/headset/hook', payload: 'OFFHOOK' }]);
  });

  it('has no publish route outside demo mode, and close() ends live pages', async () => {
    server = await startStatusServer(fakeBridge(), { port: 0, logger: silentLogger });
    expect((await http(`${server.url}api/demo/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"b1"}' })).status).toBe(404);
    const ended = new Promise<void>((resolve) => {
      request(`${server!.url}events`, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve());
        res.on('close', () => resolve());
      }).end();
    });
    await new Promise((r) => setTimeout(r, 50));
    await server.close();
    server = undefined;
    await ended;
  });
});

describe('timeline', () => {
  const signal = (value: string, at: number): SignalEvent => ({ signal: { input: 'Headset', value, at }, userKey: 'megan', intent: null });
  const poll = (at: number, ok = true): GraphCallEvent => ({ userKey: null, operation: 'getPresences', ok, startedAt: at, durationMs: 600, ...(ok ? {} : { status: 503, errorCode: 'serviceUnavailable' }) });

  it('keeps only the newest entries', () => {
    const timeline = new Timeline(3);
    for (let i = 0; i < 5; i++) timeline.addSignal(signal(`v${i}`, i));
    expect(timeline.list().map((e) => e.at)).toEqual([2, 3, 4]);
    expect(timeline.list().map((e) => e.id)).toEqual([3, 4, 5]);
  });

  it('folds successive successful polls into one entry, but not failed ones', () => {
    const timeline = new Timeline(10, 60);
    timeline.addGraphCall(poll(1));
    const again = timeline.addGraphCall(poll(2));
    expect(again).toMatchObject({ id: 1, count: 2, at: 2, detail: 'ok (10 ms)' });
    timeline.addGraphCall(poll(3, false));
    timeline.addGraphCall(poll(4));
    expect(timeline.list().map((e) => [e.title, e.count, e.detail])).toEqual([
      ['getPresences', 2, 'ok (10 ms)'],
      ['getPresences', 1, 'failed 503 serviceUnavailable (10 ms)'],
      ['getPresences', 1, 'ok (10 ms)'],
    ]);
  });

  it('shows a payload as a quoted, one-line, bounded excerpt and says when it maps to nothing', () => {
    const timeline = new Timeline();
    const entry = timeline.addSignal(signal(`<b>\n${'x'.repeat(500)}`, 0));
    expect(entry.detail.startsWith('"<b> xxx')).toBe(true);
    expect(entry.detail.endsWith('…" → ignored (maps to nothing)')).toBe(true);
    expect(entry.detail.length).toBeLessThan(MAX_DETAIL_CHARS + 40);
    expect(entry.ok).toBe(false);
  });
});
