import { createHash, randomBytes, randomUUID, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
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
 * The CA's name constraints (RFC 5280 4.2.1.10), DER: it may vouch only for `localhost` (and
 * names under it), 127.0.0.0/8 and ::1. Marked critical, so a verifier that cannot apply them
 * refuses the chain. Trusting the emulator's CA (NODE_EXTRA_CA_CERTS, `tls.caFile`) then never
 * trusts a certificate it might issue for a name on the internet.
 */
export const LOOPBACK_NAME_CONSTRAINTS_DER: Buffer = (() => {
  const der = (tag: number, ...content: Buffer[]): Buffer => {
    const body = Buffer.concat(content);
    if (body.length > 127) throw new Error('short DER lengths only');
    return Buffer.concat([Buffer.from([tag, body.length]), body]);
  };
  const subtree = (generalName: Buffer): Buffer => der(0x30, generalName);
  const dnsName = (name: string): Buffer => der(0x82, Buffer.from(name, 'ascii'));
  const ipRange = (address: number[], mask: number[]): Buffer => der(0x87, Buffer.from([...address, ...mask]));
  const v6Loopback = [...new Array<number>(15).fill(0), 1];
  const v6Host = new Array<number>(16).fill(0xff);
  const permitted = der(0xa0, subtree(dnsName('localhost')), subtree(ipRange([127, 0, 0, 0], [255, 0, 0, 0])), subtree(ipRange(v6Loopback, v6Host)));
  return der(0x30, permitted);
})();

const NAME_CONSTRAINTS_OID = '2.5.29.30';

function pem(label: string, der: ArrayBuffer): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * A CA made for one emulator: MSAL needs https, and clients trust this CA only. Its name is unique,
 * so a client that trusts two emulators' CAs at once can tell them apart, and its name
 * constraints keep it to loopback ({@link LOOPBACK_NAME_CONSTRAINTS_DER}).
 */
export async function createCertificateAuthority(now: Date = new Date()): Promise<CertificateAuthority> {
  const crypto: webcrypto.Crypto = webcrypto;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const times = ecP256(now, 3650);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: `01${randomBytes(15).toString('hex')}`,
      name: `CN=presence-bridge emulator CA ${randomUUID()}`,
      notBefore: times.notBeforeDate,
      notAfter: times.notAfterDate,
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        new x509.Extension(NAME_CONSTRAINTS_OID, true, LOOPBACK_NAME_CONSTRAINTS_DER),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey)) };
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
