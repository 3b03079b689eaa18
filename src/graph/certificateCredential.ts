import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../logger.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { GraphConfigError } from './errors.js';

/** A hex thumbprint as Entra shows it (with or without colons or spaces), normalised. */
function normaliseThumbprint(text: string): string {
  return text.replace(/[\s:]/g, '').toUpperCase();
}

export interface CertificateCredential {
  privateKey: string;
  thumbprint?: string;
  thumbprintSha256?: string;
  x5c?: string;
}

/** Reads the certificate credential's files; a key that does not match the certificate is a GraphConfigError. */
export function loadCertificateCredential(cert: NonNullable<PresenceBridgeConfig['auth']['certificate']>): CertificateCredential {
  let privateKey: string;
  try {
    // MSAL wants PKCS#8 (BEGIN PRIVATE KEY); keys exported as PKCS#1 (BEGIN RSA PRIVATE KEY) are converted.
    privateKey = createPrivateKey(readFileSync(cert.privateKeyFile, 'utf8')).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (error) {
    throw new GraphConfigError(`auth.certificate.privateKeyFile: cannot read a PEM private key from ${cert.privateKeyFile}: ${errorMessage(error)}`);
  }
  const configured = normaliseThumbprint(cert.thumbprint);
  if (!/^[0-9A-F]{40}$/.test(configured) && !/^[0-9A-F]{64}$/.test(configured)) {
    throw new GraphConfigError('auth.certificate.thumbprint: expected the certificate\'s SHA-1 thumbprint, 40 hex digits');
  }
  if (!cert.certificateFile) {
    return configured.length === 64 ? { privateKey, thumbprintSha256: configured } : { privateKey, thumbprint: configured };
  }
  let pem: string;
  let x509: X509Certificate;
  try {
    pem = readFileSync(cert.certificateFile, 'utf8');
    x509 = new X509Certificate(pem);
  } catch (error) {
    throw new GraphConfigError(`auth.certificate.certificateFile: cannot read a PEM certificate from ${cert.certificateFile}: ${errorMessage(error)}`);
  }
  const sha1 = x509.fingerprint.replace(/:/g, '');
  const sha256 = x509.fingerprint256.replace(/:/g, '');
  if (configured !== sha1 && configured !== sha256) {
    throw new GraphConfigError(
      `auth.certificate.thumbprint: ${configured} is not the thumbprint of ${cert.certificateFile} (SHA-1 ${sha1}); copy it again from the app registration's Certificates & secrets`,
    );
  }
  if (!x509.checkPrivateKey(createPrivateKey(privateKey))) {
    throw new GraphConfigError(`auth.certificate.privateKeyFile: the key does not belong to the certificate in ${cert.certificateFile}`);
  }
  // With the certificate at hand MSAL can send the SHA-256 thumbprint (x5t#S256) Entra prefers.
  return { privateKey, thumbprintSha256: sha256, x5c: pem };
}
