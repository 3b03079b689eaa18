import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, createServerCertificate } from '../../src/emulator/certificates.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { removeDir, tempDir } from '../helpers/tempDir.js';
import { DeviceServer } from './deviceServer.js';

describe('UndiciHttpClient (src/shared/httpClient.ts) against a local server', () => {
  const cleanups = cleanupAfterEach();

  function client(): UndiciHttpClient {
    const c = new UndiciHttpClient();
    cleanups.push(() => c.close());
    return c;
  }

  it('trusts a CA file for one request, and only where it is given', async () => {
    const ca = await createCertificateAuthority();
    const device = await DeviceServer.start({ tls: await createServerCertificate(ca) });
    cleanups.push(() => device.close());
    const dir = await tempDir('pb-http-ca-');
    cleanups.push(() => removeDir(dir));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.certPem);
    const http = client();
    await expect(http.request({ method: 'GET', url: `${device.origin}/json/info`, timeoutMs: 5000 })).rejects.toThrow();
    const ok = await http.request({ method: 'POST', url: `${device.origin}/json/state`, body: '{"on":true}', headers: { 'content-type': 'application/json' }, timeoutMs: 5000, caFile });
    expect(ok).toMatchObject({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });
    expect(device.seen.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual(['POST /json/state {"on":true}']);
    await expect(http.request({ method: 'GET', url: `${device.origin}/`, timeoutMs: 5000, caFile: join(dir, 'missing.pem') })).rejects.toThrow(/ENOENT/);
  });

  it('gives up after the timeout when the device never answers', async () => {
    const device = await DeviceServer.start();
    cleanups.push(() => device.close());
    device.answers.push('hang');
    const http = client();
    await expect(http.request({ method: 'GET', url: `${device.origin}/color/0?turn=on`, timeoutMs: 300 })).rejects.toThrow(/timeout|abort/i);
    expect(device.seen).toHaveLength(1);
  });

  it('cuts a big response body to 64 KiB and still reports the status', async () => {
    const device = await DeviceServer.start({ responseBody: () => 'x'.repeat(300_000) });
    cleanups.push(() => device.close());
    device.answers.push(503);
    const http = client();
    const result = await http.request({ method: 'GET', url: `${device.origin}/`, timeoutMs: 5000 });
    expect(result.status).toBe(503);
    expect(result.body).toHaveLength(64 * 1024);
  });
});
