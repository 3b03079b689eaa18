import { constants, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type JsonObject = Record<string, unknown>;

export function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

export function base64urlJson(value: unknown): string {
  return base64url(JSON.stringify(value));
}

/** Signs a JWT with RS256 (what Entra ID uses for the tokens it issues). */
export function signJwt(payload: JsonObject, key: KeyObject, kid: string): string {
  const head = base64urlJson({ typ: 'JWT', alg: 'RS256', kid });
  const body = base64urlJson(payload);
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${base64url(signature)}`;
}

export interface DecodedJwt {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits and parses a compact JWS; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    const payload: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    if (!isObject(header) || !isObject(payload)) return undefined;
    return { header, payload, signingInput: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

/** Checks an RS256 or PS256 signature (MSAL signs assertions with PS256 when given a SHA-256 thumbprint). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject | string): boolean {
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key;
  try {
    switch (jwt.header.alg) {
      case 'RS256':
        return verify('sha256', jwt.signingInput, publicKey, jwt.signature);
      case 'PS256':
        return verify(
          'sha256',
          jwt.signingInput,
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          jwt.signature,
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}
