import type { z } from 'zod';
import type { AssembledConfig } from './assemble.js';
import { checkCore } from './coreChecks.js';
import { dropEmptyOptionals } from './emptyOptionals.js';
import { checkEntries } from './inputChecks.js';
import { normaliseCore } from './normalise.js';
import { describeType, formatPath, isRecord, ProblemList, type Path } from './paths.js';
import type { PresenceBridgeConfig } from './schema.js';
import { zodIssues } from './zodMessages.js';

/**
 * Validation of the config block against an assembled schema (src/features.ts binds it to the
 * registry as `validateConfig`): zod's structural errors plus the cross-field checks of the core
 * and of each feature, all reported at once as `path: message` lines (never stopping at the
 * first), so one run of check-config shows everything to fix. Messages never repeat the value
 * of a secret (client secret, MQTT password, passwords inside URLs).
 */

export type ValidationResult = { ok: true; config: PresenceBridgeConfig; warnings?: string[] } | { ok: false; errors: string[] };

/** Homebridge also accepts the plugin-qualified platform name. */
export const QUALIFIED_PLATFORM = 'homebridge-presence-bridge.PresenceBridge';

export { formatPath } from './paths.js';
export { userIdProblem } from './coreChecks.js';
export { checkPresenceText } from './presenceText.js';
export { dropEmptyOptionals } from './emptyOptionals.js';

/** Sort key of a path in the order the options appear in the file (missing ones after). */
function documentRank(schema: z.ZodObject, raw: unknown, path: Path): number[] {
  const rank: number[] = [];
  let value: unknown = raw;
  let schemaKeys: readonly string[] = Object.keys(schema.shape);
  for (const segment of path) {
    if (typeof segment === 'number') rank.push(segment);
    else {
      const present = isRecord(value) ? Object.keys(value).indexOf(String(segment)) : -1;
      rank.push(present >= 0 ? present : 10_000 + Math.max(0, schemaKeys.indexOf(String(segment))));
    }
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
    schemaKeys = [];
  }
  return rank;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** `path: message` lines in the order the options appear in the file, so the list reads top to bottom. */
function inFileOrder(schema: z.ZodObject, raw: unknown, problems: readonly { path: Path; message: string }[]): string[] {
  const ranked = problems.map((e) => ({ ...e, rank: documentRank(schema, raw, e.path) }));
  const sorted = ranked.sort((a, b) => compareRanks(a.rank, b.rank));
  return [...new Set(sorted.map((e) => `${formatPath(e.path)}: ${e.message}`))];
}

/** A feature's check must not take validation down with it. */
function guarded(name: string, problems: ProblemList, check: () => void): void {
  try {
    check();
  } catch (error) {
    problems.add([], `the ${name} feature could not check the config: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Structure and every cross-check, on the raw block: all mistakes at once. */
function rawProblems(assembled: AssembledConfig, input: Record<string, unknown>, problems: ProblemList): z.ZodSafeParseResult<unknown> {
  const parsed = assembled.schema.safeParse(input);
  if (!parsed.success) zodIssues(assembled.schema, parsed.error.issues, input, [], problems);
  const userKeys = checkCore(input, problems);
  const users = input['users'];
  const supplied = assembled.features.some((f) => f.suppliesUsers?.(input) === true);
  if ((users === undefined || (Array.isArray(users) && users.length === 0)) && !supplied) {
    problems.add(['users'], 'must list at least one user (or name a group in userGroups)');
  }
  checkEntries(input, userKeys, assembled.reserved, problems);
  const report = problems.asReport();
  for (const feature of assembled.features) {
    if (feature.checkRaw) guarded(feature.name, problems, () => feature.checkRaw?.(input, report));
  }
  return parsed;
}

/** A config zod accepted: normalised by the core and each feature, then the features' typed checks. */
function normalised(assembled: AssembledConfig, data: unknown, problems: ProblemList): PresenceBridgeConfig {
  // The assembled schema is the runtime form of PresenceBridgeConfig (the features augment its type).
  let config = normaliseCore(data as PresenceBridgeConfig);
  for (const feature of assembled.features) {
    if (feature.normalise) config = feature.normalise(config);
  }
  const report = problems.asReport();
  for (const feature of assembled.features) {
    if (feature.check) guarded(feature.name, problems, () => feature.check?.(config, report));
  }
  return config;
}

export function validateWith(assembled: AssembledConfig, raw: unknown): ValidationResult {
  if (!isRecord(raw)) return { ok: false, errors: [`(config): must be a JSON object, not ${describeType(raw)}`] };
  const named = raw['platform'] === QUALIFIED_PLATFORM ? { ...raw, platform: 'PresenceBridge' } : raw;
  const input = dropEmptyOptionals(assembled.schema, named) as Record<string, unknown>;
  const problems = new ProblemList();
  const parsed = rawProblems(assembled, input, problems);
  const config = parsed.success && problems.errors.length === 0 ? normalised(assembled, parsed.data, problems) : undefined;
  if (config === undefined || problems.errors.length > 0) return { ok: false, errors: inFileOrder(assembled.schema, input, problems.errors) };
  const warnings = inFileOrder(assembled.schema, input, problems.warnings);
  return warnings.length > 0 ? { ok: true, config, warnings } : { ok: true, config };
}
