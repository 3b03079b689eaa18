import { BridgeError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../logger.js';
import { retryDelay } from '../presence/retryDelay.js';
import { GraphError } from './types.js';

export interface RetryInfo {
  /** The retry about to happen: 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: GraphError;
}

export interface WithRetryOptions {
  readonly clock: Clock;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly logger?: Logger;
  /** What is being done, for log lines (e.g. `setPresence alex`). */
  readonly label?: string;
  readonly onRetry?: (info: RetryInfo) => void;
  /** Uniform in [0, 1); Math.random by default. */
  readonly random?: () => number;
}

/** Thrown by {@link withRetry} when the attempts ran out on a retryable error. */
export class RetriesExhaustedError extends BridgeError<'RETRIES_EXHAUSTED'> {
  constructor(
    readonly attempts: number,
    readonly lastError: GraphError,
  ) {
    super(`gave up after ${attempts} attempts: ${lastError.message}`, 'RETRIES_EXHAUSTED', { cause: lastError });
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}

/**
 * Runs `fn` until it succeeds, fails with an error that is not a retryable GraphError, or
 * `maxAttempts` ran out (then {@link RetriesExhaustedError}). Waits on the Clock, for the time
 * {@link retryDelay} gives (Retry-After honoured). undici's own retry handler leaves POSTs alone,
 * and every presence call is a POST, hence this.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: WithRetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof GraphError) || !error.retryable) throw error;
      if (attempt >= maxAttempts) throw new RetriesExhaustedError(attempt, error);
      const delayMs = retryDelay({ attempt, retryAfterMs: error.retryAfterMs, random });
      const info: RetryInfo = { attempt, delayMs, error };
      options.logger?.warn(
        `${options.label ? `${options.label}: ` : ''}${error.message}; retry ${attempt} of ${maxAttempts - 1} in ${(delayMs / 1000).toFixed(1)} s`,
      );
      options.onRetry?.(info);
      await sleep(options.clock, delayMs);
    }
  }
}
