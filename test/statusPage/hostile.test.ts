import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import {
  isLoopbackHost,
  MAX_BUFFERED_BYTES_PER_CLIENT,
  MAX_EVENT_CLIENTS,
  MAX_EVENT_CLIENTS_PER_ADDRESS,
} from '../../src/statusPage/index.js';
import { startStatusServer, type StatusServer } from '../helpers/statusServer.js';
import { capturingLogger } from '../helpers/logger.js';
import { RecordingBridge } from '../helpers/recordingBridge.js';
import { userState } from '../helpers/userState.js';

/*
 * The status page against clients that do not play along, over real HTTP on loopback: a page on
 * another site reaching it through DNS rebinding, a client that stops reading its event stream,
 * many connections from one address, and strangers when it is bound beyond loopback.
 */

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function http(url: string, options: { method?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens an event stream and keeps reading it; resolves with the response once the headers came. */
function openStream(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<{ res: IncomingMessage; bytes: () => number; close: () => void }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const req = request(url, { agent: false, localAddress: options.localAddress, headers: options.headers }, (res) => {
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('error', () => undefined);
      resolve({ res, bytes: () => bytes, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let server: StatusServer | undefined;
const sockets: Socket[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
});

describe('DNS-rebinding guard', () => {
  it('takes only real loopback names as loopback', () => {
    const yes = ['localhost', 'LOCALHOST:8080', '127.0.0.1', '127.0.0.1:80', '127.1.2.3:9', '127.1', '[::1]', '[::1]:8080', '::1', '[0:0:0:0:0:0:0:1]:1'];
    const no = ['127.0.0.1.attacker.example', '127.0.0.1.attacker.example:80', '127.attacker.example', 'localhost.attacker.example', 'attacker.example', '128.0.0.1', '[::2]', '[::ffff:127.0.0.1]', 'evil@127.0.0.1', '127.0.0.1/x', '', '0.0.0.0'];
    for (const host of yes) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of no) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses a Host like 127.0.0.1.attacker.example and answers real loopback names', async () => {
    server = await startStatusServer(new RecordingBridge({ states: [userState('alex')] }), { port: 0, logger: silentLogger });
    const state = `${server.url}api/state`;
    for (const host of ['127.0.0.1.attacker.example', `127.0.0.1.attacker.example:${server.port}`, '127.evil.example', `localhost.evil.example:${server.port}`]) {
      expect((await http(state, { headers: { host } })).status, host).toBe(421);
    }
    for (const host of [`127.0.0.1:${server.port}`, `127.9.9.9:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`]) {
      expect((await http(state, { headers: { host } })).status, host).toBe(200);
    }
  });
});

describe('server-sent events under pressure', () => {
  it('drops a client that stopped reading once it leaves the bound unread, and keeps a reading one', async () => {
    const bridge = new RecordingBridge({ states: [userState('alex')] });
    server = await startStatusServer(bridge, { port: 0, logger: silentLogger });
    const reader = await openStream(`${server.url}events`);
    closers.push(reader.close);

    // The stalled client: a raw socket that sends its request and never reads a byte.
    const stalled = connect(server.port, '127.0.0.1');
    sockets.push(stalled);
    stalled.pause();
    let stalledClosed = false;
    stalled.on('close', () => {
      stalledClosed = true;
    });
    stalled.on('error', () => undefined);
    stalled.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    while (server.stats().clients < 2) await nextTurn();

    // ~2 KB per frame, 50 frames per turn of the event loop; the kernel's socket buffers fill first.
    const big = userState('alex', { displayName: 'A'.repeat(2000) });
    const frameBytes = Buffer.byteLength(`event: state\ndata: ${JSON.stringify({ now: 0, state: big })}\n\n`);
    let maxBuffered = 0;
    let sent = 0;
    for (let turn = 0; turn < 5000 && server.stats().clients === 2; turn++) {
      for (let i = 0; i < 50; i++) bridge.events.emit('state', big);
      sent += 50;
      maxBuffered = Math.max(maxBuffered, server.stats().bufferedBytes);
      await nextTurn();
    }
    expect(server.stats().clients).toBe(1);
    // What the server held never went past the bound, the snapshot and one turn's frames.
    expect(maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES_PER_CLIENT + 16 * 1024 + 50 * frameBytes);
    // Its connection was closed: reading what the kernel still holds ends in the close.
    stalled.resume();
    while (!stalledClosed) await nextTurn();

    // The reading client is still served: it gets the next frame.
    const before = reader.bytes();
    bridge.events.emit('state', userState('alex'));
    while (reader.bytes() === before) await nextTurn();
    expect(server.stats().clients).toBe(1);
    expect(reader.bytes()).toBeGreaterThan(sent * frameBytes * 0.99);
  });

  it('answers HEAD /events with the headers and takes no slot', async () => {
    server = await startStatusServer(new RecordingBridge({ states: [userState('alex')] }), { port: 0, logger: silentLogger });
    for (let i = 0; i < MAX_EVENT_CLIENTS + 5; i++) {
      const reply = await http(`${server.url}events`, { method: 'HEAD' });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toContain('text/event-stream');
    }
    expect(server.stats().clients).toBe(0);
    const stream = await openStream(`${server.url}events`);
    closers.push(stream.close);
    expect(stream.res.statusCode).toBe(200);
  });

  it('caps live pages per address, leaving room for other addresses', async () => {
    server = await startStatusServer(new RecordingBridge({ states: [userState('alex')] }), { port: 0, logger: silentLogger });
    for (let i = 0; i < MAX_EVENT_CLIENTS_PER_ADDRESS; i++) {
      const stream = await openStream(`${server.url}events`, { localAddress: '127.0.0.1' });
      closers.push(stream.close);
      expect(stream.res.statusCode).toBe(200);
    }
    const refused = await http(`${server.url}events`, { localAddress: '127.0.0.1' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('10');
    const other = await openStream(`${server.url}events`, { localAddress: '127.0.0.2' });
    closers.push(other.close);
    expect(other.res.statusCode).toBe(200);
    expect(server.stats().clients).toBe(MAX_EVENT_CLIENTS_PER_ADDRESS + 1);
  });
});

describe('bound beyond loopback', () => {
  it('asks for a generated token, says so at start without logging it, and takes it as bearer, query or cookie', async () => {
    const logger = capturingLogger();
    // Bound to every address; all test traffic still goes to 127.0.0.1.
    server = await startStatusServer(new RecordingBridge({ states: [userState('alex')] }), { port: 0, host: '0.0.0.0', logger });
    const token = server.token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(logger.count('info', /beyond loopback: the page asks for a token \(generated for this run\)/)).toBe(1);
    expect(logger.lines.some((l) => l.message.includes(token!))).toBe(false);
    expect(server.signInUrl).toBe(`${server.url}?token=${token!}`);

    const base = server.url;
    for (const path of ['', 'api/state', 'events']) {
      const denied = await http(`${base}${path}`);
      expect(denied.status, path).toBe(401);
      expect(denied.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await http(`${base}api/state`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    expect((await http(`${base}api/state?token=wrong`)).status).toBe(401);
    // Any Host name: the Host check cannot work off loopback, the token does the job.
    expect((await http(`${base}api/state`, { headers: { authorization: `Bearer ${token!}`, host: 'bridge.lan:1' } })).status).toBe(200);
    expect((await http(`${base}api/state?token=${token!}`)).status).toBe(200);

    const signIn = await http(server.signInUrl);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe('/');
    const cookie = String(signIn.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    expect((await http(base, { headers: { cookie: pair } })).status).toBe(200);
    const stream = await openStream(`${base}events`, { headers: { cookie: pair } });
    closers.push(stream.close);
    expect(stream.res.statusCode).toBe(200);
  });

  it('uses a configured token, and refuses one too short to be a secret', async () => {
    const logger = capturingLogger();
    server = await startStatusServer(new RecordingBridge({ states: [] }), { port: 0, host: '0.0.0.0', logger, token: 'a-configured-token-1234' });
    expect(server.token).toBe('a-configured-token-1234');
    expect(logger.count('info', /the one configured/)).toBe(1);
    expect((await http(`${server.url}api/state`, { headers: { authorization: 'Bearer a-configured-token-1234' } })).status).toBe(200);
    await expect(startStatusServer(new RecordingBridge({ states: [] }), { port: 0, logger, token: 'short' })).rejects.toThrow(/at least 16 characters/);
  });

  it('asks for no token on loopback unless one is given', async () => {
    server = await startStatusServer(new RecordingBridge({ states: [] }), { port: 0, logger: silentLogger });
    expect(server.token).toBeUndefined();
    expect(server.signInUrl).toBe(server.url);
    expect((await http(`${server.url}api/state`)).status).toBe(200);
  });
});
