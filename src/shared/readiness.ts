import type { ReadinessRegistry, ReadinessStatus } from '../feature.js';

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
