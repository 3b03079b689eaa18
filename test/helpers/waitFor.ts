/**
 * Waits until `condition` holds, checking after every turn of the event loop (every 5 ms), and
 * calling `onPoll` between checks (e.g. to move a ManualClock so a backoff timer fires). Throws
 * `timed out waiting for <what>` after `timeoutMs` (default 15 s) of wall time.
 */
export async function waitFor(
  condition: () => boolean,
  options: { timeoutMs?: number; what?: string; onPoll?: () => Promise<void> | void } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await options.onPoll?.();
  }
}
