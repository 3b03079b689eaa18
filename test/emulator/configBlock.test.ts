import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/configuration.js';
import { emulatorConfigBlock, startEmulator, type Emulator } from '../../src/emulator/index.js';

describe('emulatorConfigBlock', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('points a valid application-mode config at the emulator', () => {
    const block = emulatorConfigBlock(emulator.facts(), { graph: { pollSeconds: 0 } });
    const result = validateConfig({ ...block, users: [{ key: 'alex', id: emulator.users[0]!.id }] });
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.config.auth).toMatchObject({
      mode: 'application',
      tenantId: emulator.tenantId,
      clientId: emulator.apps[0]!.clientId,
      clientSecret: emulator.apps[0]!.clientSecret,
      authorityHost: emulator.authorityHost,
    });
    expect(result.config.graph).toMatchObject({ baseUrl: emulator.graphBaseUrl, pollSeconds: 0 });
    expect(result.config.tls.caFile).toBe(emulator.caCertFile);
  });

  it('signs in without a secret in delegated mode, and picks another app on request', () => {
    const block = emulatorConfigBlock(emulator, { mode: 'delegated', appIndex: 1 });
    expect(block.auth).toEqual({ mode: 'delegated', tenantId: emulator.tenantId, clientId: emulator.apps[1]!.clientId, authorityHost: emulator.authorityHost });
    expect(() => emulatorConfigBlock(emulator, { appIndex: 9 })).toThrow(/no application 9/);
  });
});
