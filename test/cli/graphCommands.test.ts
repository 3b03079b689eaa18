import { spawn } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { main } from '../../src/cli/main.js';
import { EXIT } from '../../src/cli/command.js';
import { TOKEN_CACHE_FILE } from '../../src/graph/index.js';
import { builtProduct, type ProductBuild } from '../helpers/builtProduct.js';
import { configFor, tempDir, testIo, until, watchOutgoing, writeConfigFile, type TestIo } from '../graph/helpers.js';

async function run(args: string[], io: TestIo = testIo()): Promise<{ code: number; stdout: string; stderr: string; io: TestIo }> {
  const code = await main(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text, io };
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('presence-bridge set / clear / prefer / status (application mode)', () => {
  let emulator: Emulator;
  let dir: { path: string; remove(): Promise<void> };
  let configFile: string;

  beforeAll(async () => {
    emulator = await startEmulator();
    dir = await tempDir('pb-cli-');
    configFile = await writeConfigFile(dir.path, configFor(emulator));
  });
  afterAll(async () => {
    await emulator.close();
    await dir.remove();
  });

  it('sets, reads, prefers and clears', async () => {
    const alex = emulator.users[0]!;
    let r = await run(['set', '--config', configFile, '--user', 'alex', 'busy/inacall', '--expiration', 'PT30M']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('alex: Busy/InACall for PT30M');
    expect(emulator.presenceOf(alex.id)).toMatchObject({ availability: 'Busy', activity: 'InACall' });

    r = await run(['status', '--config', configFile]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^alex\s+Busy\/InACall$/m);
    expect(r.stdout).toMatch(/^megan\s+\S+\/\S+$/m);

    r = await run(['status', '--config', configFile, '--user', 'alex', '--json']);
    expect(JSON.parse(r.stdout)).toEqual([{ key: 'alex', id: alex.id, availability: 'Busy', activity: 'InACall' }]);

    r = await run(['prefer', '--config', configFile, '--user', 'alex', 'DoNotDisturb/DoNotDisturb', '--expiration', 'PT2H']);
    expect(r.code).toBe(EXIT.ok);
    expect(emulator.preferredOf(alex.id)).toMatchObject({ availability: 'DoNotDisturb' });
    r = await run(['prefer', '--config', configFile, '--user', 'alex', '--clear']);
    expect(r.code).toBe(EXIT.ok);
    expect(emulator.preferredOf(alex.id)).toBeNull();

    r = await run(['clear', '--config', configFile, '--user', 'alex']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('alex: session cleared');
    r = await run(['clear', '--config', configFile, '--user', 'alex']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('already cleared');
  });

  it('--verbose prefixes the Graph lines once; MSAL\'s "No client info in response" (every app-only token) is a debug line, not a warning', async () => {
    const r = await run(['status', '--config', configFile, '--verbose']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toContain('debug: [graph] [msal] No client info in response');
    expect(r.stderr).not.toMatch(/(\[[\w -]+\]) \1/);
    expect(r.stderr).not.toMatch(/^(warning|error): /m);
  });

  it('status reads users given by user principal name in the same bulk request, by object id', async () => {
    const [alex, megan] = emulator.users;
    const file = await writeConfigFile(dir.path, configFor(emulator, { users: [{ key: 'alex', id: alex!.id }, { key: 'lee', id: emulator.users[2]!.id }, { key: 'megan', id: megan!.userPrincipalName }] }), 'upn.json');
    await run(['set', '--config', file, '--user', 'megan', 'DoNotDisturb/Presenting']);
    emulator.clearRequestLog();
    const r = await run(['status', '--config', file, '--json']);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toContainEqual({ key: 'megan', id: megan!.userPrincipalName, availability: 'DoNotDisturb', activity: 'Presenting' });
    const presence = emulator.requestLog().filter((e) => e.kind === 'graph' && !/^\/users\/[^/]+$/.test(e.route));
    expect(presence.map((e) => e.route)).toEqual(['/communications/getPresencesByUserId']);
    expect((presence[0]!.body as { ids: string[] }).ids).toEqual([alex!.id, emulator.users[2]!.id, megan!.id]);
  });

  it('status names the missing directory permission for a user given by user principal name, exit 3', async () => {
    const strict = await startEmulator({ appPermissions: ['Presence.ReadWrite.All'] });
    try {
      const [alex, megan] = strict.users;
      const file = await writeConfigFile(dir.path, configFor(strict, { users: [{ key: 'alex', id: alex!.id }, { key: 'megan', id: megan!.userPrincipalName }] }), 'upn-no-permission.json');
      const r = await run(['status', '--config', file]);
      expect(r.code).toBe(EXIT.refused);
      expect(r.stderr).toContain('User.ReadBasic.All');
      expect(r.stderr).toContain(megan!.userPrincipalName);
      expect(strict.requestLog().filter((e) => e.route.includes('/presence'))).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('a wrong secret exits 3 with the secret hint', async () => {
    const file = await writeConfigFile(dir.path, configFor(emulator, { auth: { clientSecret: 'not-the-secret' } }), 'wrong-secret.json');
    const r = await run(['set', '--config', file, '--user', 'alex', 'Busy/InACall']);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stderr).toContain('AADSTS7000215');
    expect(r.stderr).toContain('hint: the client secret is wrong or expired; create a new one under Certificates & secrets');
    expect(r.stderr).not.toContain('not-the-secret');
  });

  it('an app without the permission exits 3 naming Presence.ReadWrite.All and admin consent', async () => {
    const app = emulator.apps[1]!;
    const file = await writeConfigFile(dir.path, configFor(emulator, { auth: { clientId: app.clientId, clientSecret: app.clientSecret } }), 'no-permission.json');
    const r = await run(['set', '--config', file, '--user', 'alex', 'Busy/InACall']);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stderr).toContain('HTTP 403');
    expect(r.stderr).toContain('hint: the app needs the application permission Presence.ReadWrite.All with admin consent granted');
  });

  it('an unknown user exits 3 pointing at users[].id', async () => {
    const file = await writeConfigFile(dir.path, configFor(emulator, { users: [{ key: 'ghost', id: '0f0f0f0f-0000-4000-8000-000000000000' }] }), 'ghost.json');
    const r = await run(['set', '--config', file, 'Busy/InACall']);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stderr).toContain('HTTP 404');
    expect(r.stderr).toContain('check users[].id');
    expect(r.stderr).toMatch(/request-id \S+/);
  });

  it('an unreachable Graph exits 4 after the retries', async () => {
    const port = await closedPort();
    const file = await writeConfigFile(dir.path, configFor(emulator, { auth: { authorityHost: `https://127.0.0.1:${port}` }, graph: { baseUrl: `https://127.0.0.1:${port}` } }), 'unreachable.json');
    const r = await run(['status', '--config', file, '--retries', '1']);
    expect(r.code).toBe(EXIT.unreachable);
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stderr).toContain('retry 1 of 1');
    expect(r.stderr).toContain('gave up after 2 attempts');
  });

  it('bad usage and bad config exit 2', async () => {
    let r = await run(['set', '--config', configFile, '--user', 'alex', 'Busy/Busy']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('Busy/InACall');
    r = await run(['set', '--user', 'alex', 'Busy/InACall']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('--config FILE is required');
    r = await run(['set', '--config', configFile, 'Busy/InACall']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('alex, megan, lee');
    r = await run(['set', '--config', configFile, '--user', 'nobody', 'Busy/InACall']);
    expect(r.code).toBe(EXIT.usage);
    r = await run(['set', '--config', configFile, '--user', 'alex', 'Busy/InACall', '--expiration', 'PT5H']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('PT5M to PT4H');
    r = await run(['status', '--config', configFile, '--bogus']);
    expect(r.code).toBe(EXIT.usage);
    r = await run(['status', '--config', join(dir.path, 'missing.json')]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('no such file');
    r = await run(['login', '--config', configFile]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('delegated');
  });

  it('every command has help', async () => {
    for (const name of ['login', 'set', 'clear', 'prefer', 'status']) {
      const r = await run([name, '--help']);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toContain(`presence-bridge ${name} --config FILE`);
      expect(r.stdout).toContain('Exit codes');
    }
  });
});

describe('presence-bridge login and a delegated run, with every line of output checked for secrets', () => {
  let emulator: Emulator;
  let dir: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    emulator = await startEmulator({ deviceCodeIntervalSeconds: 1 });
    dir = await tempDir('pb-cli-login-');
  });
  afterAll(async () => {
    await emulator.close();
    await dir.remove();
  });

  it('signs in with a device code, caches with mode 0600, then sets presence silently; no secret or token is printed', async () => {
    const storage = join(dir.path, 'storage');
    const delegated = await writeConfigFile(dir.path, configFor(emulator, { auth: { mode: 'delegated', clientSecret: undefined } }), 'delegated.json');
    const application = await writeConfigFile(dir.path, configFor(emulator), 'application.json');
    const outgoing = watchOutgoing();
    const bearer = new Set<string>();
    const onRequest = (message: unknown) => {
      for (const m of JSON.stringify((message as { request: { headers: unknown } }).request.headers).matchAll(/Bearer ([A-Za-z0-9._~+/=-]+)/g)) bearer.add(m[1]!);
    };
    subscribe('undici:request:create', onRequest);
    const outputs: string[] = [];
    try {
      const io = testIo();
      const login = main(['login', '--config', delegated, '--storage', storage, '--verbose'], io);
      await until(() => /code:\s+(\S+)/.test(io.stdout.text), 'the device code');
      const code = /code:\s+(\S+)/.exec(io.stdout.text)![1]!;
      expect(io.stdout.text).toMatch(/address:\s+https:\/\/127\.0\.0\.1:\d+\/devicelogin/);
      emulator.approveDeviceCode(code, emulator.users[0]!.id);
      expect(await login).toBe(EXIT.ok);
      outputs.push(io.stdout.text, io.stderr.text);
      const cacheFile = join(storage, TOKEN_CACHE_FILE);
      expect(io.stdout.text).toContain(`Signed in as ${emulator.users[0]!.userPrincipalName}`);
      expect(io.stdout.text).toContain(`Token cache written to ${cacheFile}`);
      expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);

      for (const args of [
        ['set', '--config', delegated, '--storage', storage, '--verbose', 'DoNotDisturb/Presenting'],
        ['status', '--config', delegated, '--storage', storage, '--verbose'],
        ['clear', '--config', delegated, '--storage', storage, '--verbose', '--user', 'alex'],
        ['set', '--config', application, '--verbose', '--user', 'megan', 'Busy/InACall'],
        ['status', '--config', application, '--verbose'],
        ['prefer', '--config', application, '--verbose', '--user', 'megan', 'Away/Away'],
        ['clear', '--config', application, '--verbose', '--user', 'megan'],
      ]) {
        const r = await run(args);
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(EXIT.ok);
        outputs.push(r.stdout, r.stderr);
      }
      expect(emulator.requestLog().filter((e) => e.route.endsWith('/setPresence') && e.status === 200)).toHaveLength(2);
      // Delegated status without --user showed the signed-in user only.
      expect(outputs[4]).toMatch(/^alex\s+DoNotDisturb\/Presenting\n$/);

      // The secrets: the client secret, every bearer token sent, every token in the cache file.
      const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, Record<string, { secret?: string }>>;
      const cached = Object.values(cache).flatMap((section) => Object.values(section)).map((e) => e.secret).filter((s): s is string => typeof s === 'string' && s.length > 20);
      const secrets = [emulator.apps[0]!.clientSecret, ...bearer, ...cached];
      expect(bearer.size).toBeGreaterThanOrEqual(2);
      expect(cached.length).toBeGreaterThanOrEqual(2);
      const all = outputs.join('\n');
      expect(all).toContain('debug:'); // --verbose really logged
      for (const secret of secrets) {
        expect(all.includes(secret)).toBe(false);
        // Not even a recognisable piece of a JWT signature or a secret.
        expect(all.includes(secret.slice(-24))).toBe(false);
      }
      expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      expect([...outgoing.hosts]).toEqual(['127.0.0.1']);
    } finally {
      unsubscribe('undici:request:create', onRequest);
      outgoing.stop();
    }
  });
});

describe('the built presence-bridge binary, as a real process', () => {
  let emulator: Emulator;
  let dir: { path: string; remove(): Promise<void> };
  let build: ProductBuild;

  beforeAll(async () => {
    build = builtProduct();
    [emulator, dir] = await Promise.all([startEmulator(), tempDir('pb-cli-proc-')]);
  });
  afterAll(async () => {
    await emulator?.close();
    await dir?.remove();
  });

  /** The built CLI as a child process; `output` grows while it runs, `done` resolves when it exits. */
  function startCli(args: string[], home = dir.path) {
    const child = spawn(process.execPath, [build.cli, ...args], {
      env: { PATH: process.env.PATH, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, ...output }));
    });
    return { child, output, done };
  }

  function spawnCli(args: string[], home = dir.path): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return startCli(args, home).done;
  }

  it('login, run and status all default to ~/.presence-bridge, so run finds the sign-in login cached', async () => {
    const delegatedEmulator = await startEmulator({ deviceCodeIntervalSeconds: 1 });
    try {
      const home = join(dir.path, 'home');
      // The config in a folder of its own (as in /etc/presence-bridge), not the storage folder.
      const configDir = join(dir.path, 'etc');
      await mkdir(configDir);
      const config = await writeConfigFile(configDir, configFor(delegatedEmulator, { auth: { mode: 'delegated', clientSecret: undefined } }));
      const login = startCli(['login', '--config', config], home);
      await until(() => /code:\s+(\S+)/.test(login.output.stdout), 'the device code');
      delegatedEmulator.approveDeviceCode(/code:\s+(\S+)/.exec(login.output.stdout)![1]!, delegatedEmulator.users[0]!.id);
      const signedIn = await login.done;
      expect(signedIn.code, signedIn.stderr).toBe(EXIT.ok);
      const cacheFile = join(home, '.presence-bridge', TOKEN_CACHE_FILE);
      expect(signedIn.stdout).toContain(`Token cache written to ${cacheFile}`);

      delegatedEmulator.clearRequestLog();
      const daemon = startCli(['run', '--config', config], home);
      try {
        await until(() => /started for 3 user/.test(daemon.output.stdout), 'the bridge to start');
        // The start-up read-back, with the token refreshed from the cache login wrote.
        await until(() => delegatedEmulator.requestLog().some((e) => e.route === '/me/presence' && e.status === 200), 'a read-back');
      } finally {
        daemon.child.kill('SIGTERM');
      }
      const ran = await daemon.done;
      expect(ran.code, ran.stdout + ran.stderr).toBe(EXIT.ok);
      expect(ran.stdout).not.toMatch(/SIGN_IN_REQUIRED|nobody is signed in|presence-bridge login/);
      // Nothing went next to the config.
      await expect(stat(join(configDir, TOKEN_CACHE_FILE))).rejects.toThrow(/ENOENT/);

      const status = await spawnCli(['status', '--config', config], home);
      expect(status.code, status.stderr).toBe(EXIT.ok);
      expect(status.stdout).toMatch(/^alex\s+\S+\/\S+\n$/);
    } finally {
      await delegatedEmulator.close();
    }
  });

  it('waits out a Retry-After instead of exiting in the middle of the retry', async () => {
    const file = await writeConfigFile(dir.path, configFor(emulator));
    emulator.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1, count: 1, path: '/users/' });
    const r = await spawnCli(['set', '--config', file, '--user', 'alex', 'Busy/InACall']);
    expect(r.stderr).toContain('retry 1 of 3');
    expect(r.stdout).toContain('alex: Busy/InACall');
    expect(r.code).toBe(EXIT.ok);
    expect(emulator.requestLog().filter((e) => e.route.endsWith('/setPresence')).map((e) => e.status)).toEqual([429, 200]);
  });

  it('exits 4 when Graph stays unreachable', async () => {
    const port = await closedPort();
    const file = await writeConfigFile(dir.path, configFor(emulator, { auth: { authorityHost: `https://127.0.0.1:${port}` }, graph: { baseUrl: `https://127.0.0.1:${port}` } }), 'unreachable.json');
    const r = await spawnCli(['status', '--config', file, '--retries', '1']);
    expect(r.stderr).toContain('gave up after 2 attempts');
    expect(r.code).toBe(EXIT.unreachable);
  });
});
