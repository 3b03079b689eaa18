import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type LocalHttpServer } from '../../src/httpServer/index.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { capturingLogger } from '../helpers/logger.js';

/*
 * The one local HTTP server over real HTTP (fetch, i.e. undici): what every feature's routes get
 * from it without writing it themselves.
 */

let server: LocalHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A GET with a Host header of our choosing (fetch does not let one set Host). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function routes(): RouteTable {
  const table = new RouteTable();
  table.add('GET', '/things/:id', (r) => ({ status: 200, body: { id: r.params['id'], q: r.query.get('q') } }));
  table.add('POST', '/things/:id', (r) => ({ status: 201, body: { got: r.body.length } }), { maxBodyBytes: 100 });
  table.add('PUT', '/big', (r) => ({ status: 200, body: { got: r.body.length } }));
  table.add('GET', '/text', () => ({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'hello' }));
  table.add('GET', '/throws', () => {
    throw new Error('boom');
  });
  table.add('GET', '/rejects', () => Promise.reject(new Error('late boom')));
  table.add('GET', '/open', () => ({ status: 200, body: { open: true } }), { access: 'open' });
  return table;
}

describe('the local HTTP server', () => {
  it('dispatches routes and answers errors as JSON {error: {code, message}}', async () => {
    const logger = capturingLogger();
    server = await startHttpServer(routes(), { port: 0, logger });
    const base = server.url;

    const found = await fetch(`${base}things/a%20b?q=1`);
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual({ id: 'a b', q: '1' });
    expect(await (await fetch(`${base}text`)).text()).toBe('hello');
    const head = await fetch(`${base}text`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('5');

    const missing = await fetch(`${base}nothing/here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await missing.json()).toEqual({ error: { code: 'notFound', message: 'no route /nothing/here' } });

    const wrongMethod = await fetch(`${base}things/x`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST, HEAD');
    expect(((await wrongMethod.json()) as { error: { code: string } }).error.code).toBe('methodNotAllowed');

    expect((await fetch(`${base}things/x`, { method: 'POST', body: 'x'.repeat(100) })).status).toBe(201);
    const tooBig = await fetch(`${base}things/x`, { method: 'POST', body: 'x'.repeat(101) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { code: string } }).error.code).toBe('payloadTooLarge');
    expect((await fetch(`${base}big`, { method: 'PUT', body: 'x'.repeat(64 * 1024) })).status).toBe(200);
    expect((await fetch(`${base}big`, { method: 'PUT', body: 'x'.repeat(64 * 1024 + 1) })).status).toBe(413);

    for (const path of ['throws', 'rejects']) {
      const failed = await fetch(`${base}${path}`);
      expect(failed.status, path).toBe(500);
      expect(await failed.json()).toEqual({ error: { code: 'internalError', message: 'internal error' } });
    }
    expect(logger.count('warn', /GET \/throws failed: boom/)).toBe(1);
    expect(logger.count('warn', /GET \/rejects failed: late boom/)).toBe(1);
    // the server still serves after its handlers failed
    expect((await fetch(`${base}open`)).status).toBe(200);
  });

  it('on loopback answers only loopback Host names, every route alike', async () => {
    server = await startHttpServer(routes(), { port: 0, logger: capturingLogger() });
    for (const path of ['open', 'things/1']) {
      const refused = await getWithHost(`${server.url}${path}`, 'attacker.example');
      expect(refused.status, path).toBe(421);
      expect((JSON.parse(refused.body) as { error: { code: string } }).error.code).toBe('misdirectedRequest');
      expect((await getWithHost(`${server.url}${path}`, `localhost:${server.port}`)).status, path).toBe(200);
    }
  });

  it('beyond loopback asks token routes for the token (timing-safe), never open ones, and hides which paths exist', async () => {
    const logger = capturingLogger();
    server = await startHttpServer(routes(), { port: 0, host: '0.0.0.0', logger, token: 'a-configured-token-1234' });
    const base = server.url;
    expect((await getWithHost(`${base}open`, 'bridge.lan')).status).toBe(200);
    for (const path of ['things/1', 'nothing/here']) {
      const denied = await fetch(`${base}${path}`);
      expect(denied.status, path).toBe(401);
      expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    expect((await fetch(`${base}things/1`, { headers: { authorization: 'Bearer a-configured-token-1234' } })).status).toBe(200);
    expect((await fetch(`${base}nothing/here`, { headers: { authorization: 'Bearer a-configured-token-1234' } })).status).toBe(404);
    expect(logger.lines.some((l) => l.message.includes('a-configured-token-1234'))).toBe(false);
    await expect(startHttpServer(routes(), { port: 0, logger, token: 'too-short' })).rejects.toThrow(/at least 16 characters/);
  });
});
