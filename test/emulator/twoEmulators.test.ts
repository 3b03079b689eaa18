import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';

describe('two emulators at once', () => {
  const started: Emulator[] = [];
  afterAll(async () => {
    await Promise.all(started.map((e) => e.close()));
  });

  it('a client trusting both CAs reaches both (each CA has its own name)', async () => {
    const [a, b] = await Promise.all([startEmulator({ port: 0 }), startEmulator({ port: 0 })]);
    started.push(a, b);
    const ca = [...rootCertificates, await readFile(a.caCertFile, 'utf8'), await readFile(b.caCertFile, 'utf8')];
    const agent = new Agent({ connect: { ca } });
    try {
      for (const emulator of [a, b]) {
        const url = `${emulator.authorityHost}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`;
        const response = await request(url, { dispatcher: agent });
        expect(response.statusCode).toBe(200);
        await response.body.dump();
      }
    } finally {
      await agent.close();
    }
  });
});
