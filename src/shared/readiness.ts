import type { Clock } from './clock.js';

/**
 * What `/readyz` asks (issue 19): each part (the core, sign-in, MQTT…) registers a check that
 * answers null when ready or a short reason why not. Checks are asked on each probe, so they
 * always tell the current truth.
 */
export interface ReadinessRegistry {
  /** Throws when `name` is taken. */
  add(name: string, check: () => string | null): void;
  /** Every check's answer now; ready when none has a reason. */
  status(): ReadinessStatus;
}

export interface ReadinessStatus {
  readonly ready: boolean;
  /** The checks not ready, with their reasons, in registration order. */
  readonly waiting: readonly { readonly name: string; readonly reason: string }[];
}

/** The readiness checks of one bridge (see {@link ReadinessRegistry}); pure. */
export class ReadinessChecks implements ReadinessRegistry {
  private readonly checks = new Map<string, () => string | null>();

  add(name: string, check: () => string | null): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is registered twice`);
    this.checks.set(name, check);
  }

  status(): ReadinessStatus {
    const waiting: { name: string; reason: string }[] = [];
    for (const [name, check] of this.checks) {
      let reason: string | null;
      try {
        reason = check();
      } catch (error) {
        reason = `its check failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (reason !== null) waiting.push({ name, reason });
    }
    return { ready: waiting.length === 0, waiting };
  }
}

/** `/readyz` fetches a token to learn whether sign-in works at most this often while it fails. */
export const SIGN_IN_PROBE_MS = 30_000;

export interface CoreReadinessSource {
  readonly clock: Clock;
  /** True between the end of the core's start and the beginning of its stop. */
  running(): boolean;
  stopping(): boolean;
  /** Fetches an access token (the core's token provider), or undefined when there is none yet. */
  getToken(): Promise<unknown> | undefined;
  /** Subscribes to the core's Graph calls: one that succeeded proves sign-in works. */
  onGraphCall(listener: (call: { readonly ok: boolean }) => void): void;
}

/**
 * The core's checks: `core` (started, not stopping) and `signIn` (a token was obtained or a Graph
 * call succeeded). Asked before any Graph call succeeded, `signIn` fetches a token in the
 * background (the answer shows at the next probe), so nothing signs in early unless a probe asks,
 * and a refused sign-in is asked again at most every {@link SIGN_IN_PROBE_MS}.
 */
export function addCoreReadiness(readiness: ReadinessRegistry, core: CoreReadinessSource): void {
  let reason: string | null = 'not signed in yet';
  let probing = false;
  let probedAt: number | undefined;
  core.onGraphCall((call) => {
    if (call.ok) reason = null;
  });
  readiness.add('core', () => (core.running() ? null : core.stopping() ? 'stopping' : 'starting'));
  readiness.add('signIn', () => {
    if (reason === null || !core.running() || probing) return reason;
    if (probedAt !== undefined && core.clock.now() - probedAt < SIGN_IN_PROBE_MS) return reason;
    const token = core.getToken();
    if (!token) return reason;
    probedAt = core.clock.now();
    probing = true;
    token.then(
      () => {
        reason = null;
      },
      (error: unknown) => {
        reason = `sign-in failed: ${error instanceof Error ? error.message : String(error)}`;
      },
    ).finally(() => {
      probing = false;
    });
    return reason;
  });
}
