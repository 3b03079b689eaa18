import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/** An RSA certificate registered on an application, for client assertions (certificate credentials). */
export interface ClientCertificate {
  readonly certPem: string;
  readonly privateKeyPem: string;
  /** SHA-1 thumbprint, hex upper case (what the Entra portal shows; MSAL `thumbprint`). */
  readonly thumbprint: string;
  /** SHA-256 thumbprint, hex upper case (MSAL `thumbprintSha256`). */
  readonly thumbprintSha256: string;
}

const DAY_MS = 86_400_000;

/** A P-256 key signed with SHA-256, valid from a day before `now` until `days` days after it. */
function ecP256(now: Date, days: number) {
  return {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - DAY_MS),
    notAfterDate: new Date(now.getTime() + days * DAY_MS),
  } as const;
}

/**
 * A CA made for one emulator: MSAL needs https, and clients trust this CA only. Its name is unique,
 * so a client that trusts two emulators' CAs at once can tell them apart.
 */
export async function createCertificateAuthority(now: Date = new Date()): Promise<CertificateAuthority> {
  const result = await generate([{ name: 'commonName', value: `presence-bridge emulator CA ${randomUUID()}` }], {
    ...ecP256(now, 3650),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { certPem: result.cert, keyPem: result.private };
}

/** A server certificate for 127.0.0.1, ::1 and localhost, signed by the emulator's CA. */
export async function createServerCertificate(ca: CertificateAuthority, now: Date = new Date()): Promise<ServerCertificate> {
  const result = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...ecP256(now, 825),
    ca: { cert: ca.certPem, key: ca.keyPem },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { certPem: result.cert, keyPem: result.private };
}

/** A self-signed RSA certificate an application signs client assertions with. */
export async function createClientCertificate(commonName: string, now: Date = new Date()): Promise<ClientCertificate> {
  const result = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - DAY_MS),
    notAfterDate: new Date(now.getTime() + 730 * DAY_MS),
  });
  return { certPem: result.cert, privateKeyPem: result.private, ...thumbprints(result.cert) };
}

export function thumbprints(certPem: string): { thumbprint: string; thumbprintSha256: string } {
  const raw = new X509Certificate(certPem).raw;
  return {
    thumbprint: createHash('sha1').update(raw).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(raw).digest('hex').toUpperCase(),
  };
}
