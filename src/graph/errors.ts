import { GraphError } from './types.js';

export { GraphConfigError } from '../shared/errors.js';

export const LOGIN_HINT = 'run `presence-bridge login` to sign in again';

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
}

/** A request that got no HTTP answer. TLS trust failures are not worth retrying. */
export function transportError(message: string, cause: unknown, service: 'Graph' | 'sign-in'): GraphError {
  const codes = errorCodes(cause);
  if (codes.some((c) => TLS_CODES.has(c))) {
    return new GraphError(message, {
      code: 'NETWORK',
      hint: `the ${service} server's TLS certificate is not trusted; add the CA that signed it (a TLS-inspecting proxy, the emulator) with tls.caFile or NODE_EXTRA_CA_CERTS`,
      retryable: false,
      cause,
    });
  }
  return new GraphError(message, {
    code: 'NETWORK',
    hint: `cannot reach ${service}; check the network, the proxy setting (or HTTPS_PROXY/NO_PROXY) and graph.timeoutSeconds`,
    retryable: true,
    cause,
  });
}
