import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ManualClock } from '../../src/shared/clock.js';
import { appToken, call, formBody, startTestEmulator, userToken, useEmulator } from '../helpers/emulator.js';
import { removeDir, tempDir } from '../helpers/tempDir.js';

const env = useEmulator();

describe('bad input never crashes the emulator', () => {
  it('answers a non-JSON body with a Graph BadRequest', async () => {
    const t = env.current;
    const token = await appToken(t);
    const res = await call(t, 'POST', `/v1.0/users/${t.emulator.users[0]!.id}/presence/setPresence`, { token, headers: { 'content-type': 'application/json' }, body: '{"sessionId": ' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BadRequest');
  });

  it('refuses a 10 MB body with 413 and keeps serving', async () => {
    const t = env.current;
    const token = await appToken(t);
    const res = await call(t, 'POST', `/v1.0/users/${t.emulator.users[0]!.id}/presence/setPresence`, { token, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(10 * 1024 * 1024, 0x20) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('RequestEntityTooLarge');
    const control = await call(t, 'POST', '/_emulator/faults', { body: Buffer.alloc(10 * 1024 * 1024, 0x20) });
    expect(control.status).toBe(413);
    expect((await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token })).status).toBe(200);
  });

  it('survives bad percent-encoding and a request that is not HTTP', async () => {
    const t = env.current;
    const token = await appToken(t);
    const res = await call(t, 'GET', '/v1.0/users/%E0%A4%A/presence', { token });
    expect(res.status).toBe(400); // not an object id
    expect(res.body.error.code).toBe('BadRequest');
    expect((await call(t, 'GET', '/_emulator/users/%E0%A4%A/sessions')).status).toBe(404);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: t.emulator.port, ca: t.emulator.caCert, servername: 'localhost' }, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token })).status).toBe(200);
  });

  it('answers garbage on the token endpoint and unknown routes in their own error shapes', async () => {
    const t = env.current;
    const tokenRes = await call(t, 'POST', `/${t.emulator.tenantId}/oauth2/v2.0/token`, { body: '\u0000\u0001%%%' });
    expect(tokenRes.status).toBe(400);
    expect(tokenRes.body.error).toBe('invalid_request');
    const get = await call(t, 'GET', `/${t.emulator.tenantId}/oauth2/v2.0/token`);
    expect(get.status).toBe(405);
    const unknown = await call(t, 'GET', '/favicon.ico');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NotFound');
    const control = await call(t, 'POST', '/_emulator/faults', { body: 'not json' });
    expect(control.status).toBe(400);
    const badFault = await call(t, 'POST', '/_emulator/faults', { json: { kind: 'status', status: 418, count: 1 } });
    expect(badFault.status).toBe(400);
    expect((await call(t, 'GET', '/_emulator/nope')).status).toBe(404);
    expect((await call(t, 'GET', '/_emulator/users/nobody/sessions')).status).toBe(404);
  });
});

describe('control routes', () => {
  it('read and clear the request log; control calls are not logged; secrets are not logged', async () => {
    const t = env.current;
    const token = await appToken(t);
    await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token });
    const log = await call(t, 'GET', '/_emulator/requests');
    expect(log.body.value.map((e: { route: string }) => e.route)).toEqual([`/${t.emulator.tenantId}/oauth2/v2.0/token`, `/users/${t.emulator.users[0]!.id}/presence`]);
    expect(log.text).not.toContain(t.emulator.apps[0]!.clientSecret);
    expect(log.text).not.toContain(token);
    expect((await call(t, 'DELETE', '/_emulator/requests')).status).toBe(204);
    expect(t.emulator.requestLog()).toEqual([]);
    const facts = await call(t, 'GET', '/_emulator/facts');
    expect(facts.body).toEqual(t.emulator.facts());
  });

  it('sets and clears a preferred presence and approves device codes', async () => {
    const t = env.current;
    const user = t.emulator.users[0]!;
    // no session: the preferred presence is kept but the user reads Offline until a session exists
    expect((await call(t, 'POST', `/_emulator/users/${user.id}/preferred`, { json: { availability: 'DoNotDisturb', activity: 'DoNotDisturb' } })).body.presence).toEqual({ availability: 'Offline', activity: 'Offline' });
    t.emulator.addSession(user.id, { clientId: 'teams', availability: 'Available', activity: 'Available' });
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    expect((await call(t, 'DELETE', `/_emulator/users/${user.id}/preferred`)).status).toBe(204);
    expect(t.emulator.presenceOf(user.id).availability).toBe('Available');
    expect((await call(t, 'POST', '/_emulator/devicecode/approve', { json: { user_code: 'NOSUCHCODE', userId: user.id } })).status).toBe(404);
  });
});

describe('--state FILE', () => {
  it('keeps tenant, apps, users, sessions and sign-ins across a restart, in a 0600 file', async () => {
    const dir = await tempDir('emu-state-');
    const stateFile = join(dir, 'state.json');
    const clock = new ManualClock();
    try {
      const first = await startTestEmulator({ stateFile, clock });
      const token = await appToken(first);
      const user = first.emulator.users[0]!;
      await call(first, 'POST', `/v1.0/users/${user.id}/presence/setPresence`, { token, json: { sessionId: first.emulator.apps[0]!.clientId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' } });
      const signedIn = await userToken(first, 1);
      const facts = first.emulator.facts();
      await first.close();
      expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
      expect(await readFile(stateFile, 'utf8')).toContain(user.id);

      const second = await startTestEmulator({ stateFile, clock });
      try {
        expect(second.emulator.tenantId).toBe(facts.tenantId);
        expect(second.emulator.facts().apps).toEqual(facts.apps);
        expect(second.emulator.presenceOf(user.id)).toEqual({ availability: 'Busy', activity: 'InACall' });
        // Tokens signed before the restart still verify: the signing key is kept too.
        expect((await call(second, 'GET', `/v1.0/users/${user.id}/presence`, { token })).status).toBe(200);
        const refreshed = await call(second, 'POST', `/${facts.tenantId}/oauth2/v2.0/token`, formBody({ grant_type: 'refresh_token', client_id: facts.apps[0]!.clientId, refresh_token: signedIn.refreshToken }));
        expect(refreshed.status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      await removeDir(dir);
    }
  });
});

describe('presence-bridge emulator (CLI)', () => {
  it('prints one JSON line of facts, serves, and exits 0 on interrupt', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    let interrupt!: () => void;
    const interrupted = new Promise<void>((r) => (interrupt = r));
    const exit = main(['emulator', '--port', '0', '--time-scale', '30'], { stdout, stderr, env: {}, cwd: process.cwd(), interrupted });
    while (!out.includes('\n')) await new Promise((r) => setImmediate(r));
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const facts = JSON.parse(lines[0]!);
    expect(Object.keys(facts)).toEqual(['authorityHost', 'graphBaseUrl', 'caCertFile', 'tenantId', 'apps', 'users', 'groups']);
    expect(facts.users).toHaveLength(3);
    expect(facts.groups).toHaveLength(1);
    expect(Object.keys(facts.apps[0])).toEqual(['clientId', 'clientSecret']);
    const ca = await readFile(facts.caCertFile, 'utf8');
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { ca } });
    const res = await request(`${facts.graphBaseUrl}/${facts.tenantId}/v2.0/.well-known/openid-configuration`, { dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    await dispatcher.close();
    interrupt();
    expect(await exit).toBe(0);
    expect(err).toContain('listening on');
    expect(err).not.toContain(facts.apps[0].clientSecret);
  });

  it('exits 2 on bad options', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const io = { stdout: new PassThrough(), stderr, env: {}, cwd: process.cwd(), interrupted: new Promise<void>(() => undefined) };
    expect(await main(['emulator', '--time-scale', '0'], io)).toBe(2);
    expect(await main(['emulator', '--port', 'abc'], io)).toBe(2);
    expect(await main(['emulator', '--bogus'], io)).toBe(2);
    expect(err).toContain('--time-scale');
  });
});
