/**
 * Test fixture: the project's own HTTPS Graph + sign-in emulator on a free loopback port, on a
 * ManualClock the test moves, with an undici Agent that trusts the emulator's CA.
 */
import { afterEach, beforeEach } from 'vitest';
import { Agent, request } from 'undici';
import { ManualClock } from '../../src/shared/clock.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

export interface TestEmulator {
  readonly emulator: Emulator;
  readonly clock: ManualClock;
  /** An undici dispatcher that trusts the emulator's CA (and nothing else). */
  readonly dispatcher: Agent;
  close(): Promise<void>;
}

export async function startTestEmulator(options: Omit<EmulatorOptions, 'clock' | 'port'> & { clock?: ManualClock } = {}): Promise<TestEmulator> {
  const clock = options.clock ?? new ManualClock();
  const emulator = await startEmulator({ ...options, clock, port: 0, host: '127.0.0.1' });
  const dispatcher = new Agent({ connect: { ca: emulator.caCert } });
  return {
    emulator,
    clock,
    dispatcher,
    close: async () => {
      await dispatcher.close();
      await emulator.close();
    },
  };
}

/** Starts a fresh emulator before each test and closes it after; read `.current` inside tests. */
export function useEmulator(options: Omit<EmulatorOptions, 'clock' | 'port'> = {}): { current: TestEmulator } {
  const holder = {} as { current: TestEmulator };
  beforeEach(async () => {
    holder.current = await startTestEmulator(options);
  });
  afterEach(async () => {
    await holder.current.close();
  });
  return holder;
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON shapes
  body: any;
  text: string;
}

/** A plain HTTPS request to the emulator; JSON in, JSON (when parseable) out. */
export async function call(
  t: TestEmulator,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(`${t.emulator.graphBaseUrl}${path}`, { method: method as 'GET', headers, body, dispatcher: t.dispatcher });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers: flat, body: parsed, text };
}

/** An app-only access token from the emulator's token endpoint (client credentials with a secret). */
export async function appToken(t: TestEmulator, appIndex = 0): Promise<string> {
  const app = t.emulator.apps[appIndex]!;
  const res = await call(t, 'POST', `/${t.emulator.tenantId}/oauth2/v2.0/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
  });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return res.body.access_token as string;
}

function form(values: Record<string, string>): { headers: Record<string, string>; body: string } {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(values).toString() };
}

/** A delegated access token for a user through the device code flow over plain HTTPS. */
export async function userToken(t: TestEmulator, userIndex = 0, scope = 'https://graph.microsoft.com/Presence.ReadWrite openid profile offline_access'): Promise<{ accessToken: string; refreshToken: string }> {
  const app = t.emulator.apps[0]!;
  const base = `/${t.emulator.tenantId}/oauth2/v2.0`;
  const code = await call(t, 'POST', `${base}/devicecode`, form({ client_id: app.clientId, scope }));
  if (code.status !== 200) throw new Error(`devicecode failed: ${code.text}`);
  t.emulator.approveDeviceCode(code.body.user_code, t.emulator.users[userIndex]!.id);
  const res = await call(t, 'POST', `${base}/token`, form({ client_id: app.clientId, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: code.body.device_code }));
  if (res.status !== 200) throw new Error(`token failed: ${res.text}`);
  return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
}

export { form as formBody };
