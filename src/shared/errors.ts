/**
 * The one error base of the product: every error we throw on purpose carries a stable `code` to
 * branch on (never the message, which is for people and may be reworded). Modelled on undici's
 * error classes (`lib/core/errors.js`): a class per family, a code per case.
 */
export class BridgeError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(message: string, code: Code, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The config cannot work for talking to Microsoft (a URL that is not https, an unreadable key or
 * CA file, no credential). Found before any request is made; the CLI exits 2 on it. Here, below
 * the config and Graph layers, because both find such problems (src/shared/clouds.ts too).
 */
export class GraphConfigError extends BridgeError<'GRAPH_CONFIG'> {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, 'GRAPH_CONFIG', options);
  }
}
