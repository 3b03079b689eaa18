import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, createServerCertificate, type CertificateAuthority } from '../../src/emulator/certificates.js';
import { removeDir, tempDir } from '../helpers/tempDir.js';

/*
 * The emulator's CA is trusted by whoever points a config at the emulator (tls.caFile,
 * NODE_EXTRA_CA_CERTS). Its name constraints keep that trust to loopback: a certificate the CA
 * (or whoever got hold of its key from a state file) issues for a name on the internet does not
 * verify, in Node's TLS (the path MSAL and undici use) nor in openssl.
 */

const run = promisify(execFile);

/** A leaf certificate signed by `ca` for the given names (DNS names and IP addresses). */
async function leaf(ca: CertificateAuthority, dns: string[], ips: string[]): Promise<{ certPem: string; keyPem: string }> {
  const result = await generate([{ name: 'commonName', value: dns[0] ?? ips[0] ?? 'x' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { cert: ca.certPem, key: ca.keyPem },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  return { certPem: result.cert, keyPem: result.private };
}

/** Connects with Node's TLS trusting only `ca`; resolves with 'ok' or the error's code and message. */
async function handshake(ca: CertificateAuthority, served: { certPem: string; keyPem: string }, servername: string): Promise<string> {
  const server = createServer({ cert: served.certPem, key: served.keyPem }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<string>((resolve) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername, ca: [ca.certPem] }, () => {
        socket.destroy();
        resolve('ok');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(`${error.code ?? ''}: ${error.message}`));
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('emulator CA name constraints', () => {
  let ca: CertificateAuthority;
  let folder: string;

  beforeAll(async () => {
    ca = await createCertificateAuthority();
    folder = await tempDir('pb-ca-');
    await writeFile(join(folder, 'ca.pem'), ca.certPem);
  });
  afterAll(async () => {
    if (folder) await removeDir(folder);
  });

  it('carries a critical name constraints extension permitting localhost, 127.0.0.0/8 and ::1 only', async () => {
    const { stdout } = await run('openssl', ['x509', '-in', join(folder, 'ca.pem'), '-noout', '-text']);
    const block = /X509v3 Name Constraints: critical\n\s+Permitted:\n((?:\s+(?:DNS|IP):.*\n)+)/.exec(stdout);
    expect(block, stdout).not.toBeNull();
    const permitted = block![1]!.trim().split(/\n\s*/);
    expect(permitted).toEqual(['DNS:localhost', 'IP:127.0.0.0/255.0.0.0', 'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF']);
    expect(stdout).not.toMatch(/Excluded:/);
    expect(stdout).toMatch(/CA:TRUE, pathlen:0/);
  });

  it("the emulator's own server certificate still verifies, by name and by address", async () => {
    const server = await createServerCertificate(ca);
    expect(await handshake(ca, server, 'localhost')).toBe('ok');
    await writeFile(join(folder, 'server.pem'), server.certPem);
    const { stdout } = await run('openssl', ['verify', '-CAfile', join(folder, 'ca.pem'), join(folder, 'server.pem')]);
    expect(stdout).toContain(': OK');
  });

  it('a certificate it issues for an internet name or a LAN address does not verify', async () => {
    for (const [dns, ips, servername] of [
      [['login.microsoftonline.com'], [], 'login.microsoftonline.com'],
      [['graph.microsoft.com', 'localhost'], [], 'graph.microsoft.com'],
      [['localhost.attacker.example'], [], 'localhost.attacker.example'],
      [[], ['10.0.0.1'], 'localhost'],
    ] as const) {
      const served = await leaf(ca, [...dns], [...ips]);
      expect(await handshake(ca, served, servername), dns.join()).toMatch(/permitted subtree violation/i);
      await writeFile(join(folder, 'leaf.pem'), served.certPem);
      const verified = await run('openssl', ['verify', '-CAfile', join(folder, 'ca.pem'), join(folder, 'leaf.pem')]).then(
        () => 'ok',
        (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
      );
      expect(verified).toMatch(/permitted subtree violation/);
    }
    // The same CA still vouches for a loopback name it did not issue through the emulator.
    expect(await handshake(ca, await leaf(ca, ['sub.localhost'], ['127.0.0.2']), 'sub.localhost')).toBe('ok');
  });
});
