import type { ChildProcess } from 'node:child_process';

/** True while `child` is started and has neither exited nor been killed by a signal. */
export function isRunning(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Sends SIGTERM and resolves when the process has exited (at once when it is not running). */
export async function terminate(child: ChildProcess | undefined): Promise<void> {
  if (!child || !isRunning(child)) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
