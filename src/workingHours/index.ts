import type { ConfigReport, FeatureDefinition } from '../feature.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { WorkingHoursGate, type WorkingHoursSlice } from './gate.js';
import { OffWorkPreference } from './offWorkPreference.js';
import { isOpenAt, nextChangeAfter } from './schedule.js';
import { userWorkingHoursSchema, workingHoursExemptSchema, workingHoursSectionSchema, type UserHours } from './schema.js';

export { WorkingHoursGate, OUTSIDE_NOTE, GATE_NAME } from './gate.js';
export type { WorkingHoursSlice } from './gate.js';

/**
 * The config as the registry hands it over, read field by field: the `workingHours` section,
 * `users[].workingHours` and `inputs[].workingHoursExempt` are merged into the config schema by
 * the registry, so they are read here without depending on the assembled type.
 */
function field(entry: unknown, key: string): unknown {
  return typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[key] : undefined;
}

interface Resolved {
  readonly slice: WorkingHoursSlice;
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

function resolve(config: PresenceBridgeConfig): Resolved {
  const problems: { path: string; message: string }[] = [];
  const rawSection = field(config, 'workingHours');
  let section: ReturnType<typeof workingHoursSectionSchema.parse> | undefined;
  if (rawSection !== undefined) {
    const parsed = workingHoursSectionSchema.safeParse(rawSection);
    if (parsed.success) section = parsed.data;
    else for (const issue of parsed.error.issues) problems.push({ path: ['workingHours', ...issue.path].join('.'), message: issue.message });
  }
  const users = new Map<string, UserHours>();
  config.users.forEach((user, index) => {
    const rawOwn = field(user, 'workingHours');
    const parsed = rawOwn === undefined ? undefined : userWorkingHoursSchema.safeParse(rawOwn);
    if (parsed && !parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ path: [`users[${index}].workingHours`, ...issue.path].join('.'), message: issue.message });
      return;
    }
    const own = parsed?.data;
    if (!section && !own) return;
    const enabled = own?.enabled ?? section?.enabled ?? true;
    if (!enabled) return;
    const timeZone = own?.timeZone ?? section?.timeZone;
    const windows = own?.windows ?? section?.windows;
    if (timeZone === undefined || windows === undefined) {
      problems.push({ path: `users[${index}].workingHours`, message: 'needs timeZone and windows (or a workingHours section to take them from)' });
      return;
    }
    const preferOutside = own?.preferOutside ?? section?.preferOutside;
    users.set(user.key, { timeZone, windows, outside: own?.outside ?? section?.outside ?? 'clear', ...(preferOutside ? { preferOutside } : {}) });
  });
  const exemptInputs = new Set<string>(section?.exemptInputs ?? []);
  for (const input of config.inputs) if (field(input, 'workingHoursExempt') === true) exemptInputs.add(input.name);
  return { slice: { users, exemptInputs }, problems };
}

/**
 * Working hours (issue 18): a gate, plus the opt-in "appear offline after work" part. Users
 * without working hours (no section, no own `workingHours`, or `enabled: false`) are never gated.
 */
export const workingHoursFeature: FeatureDefinition<WorkingHoursSlice> = {
  name: 'workingHours',
  section: {
    key: 'workingHours',
    schema: workingHoursSectionSchema.optional(),
    title: 'Working hours',
    description: 'When inputs may set presence, for every user (a user can override it): a time zone, weekly windows, and what happens outside them.',
  },
  userFields: { workingHours: userWorkingHoursSchema.optional() },
  inputFields: { workingHoursExempt: workingHoursExemptSchema },
  check(config: PresenceBridgeConfig, report: ConfigReport): void {
    for (const problem of resolve(config).problems) report.error(problem.path, problem.message);
  },
  select(config: PresenceBridgeConfig): WorkingHoursSlice | null {
    const { slice } = resolve(config);
    return slice.users.size > 0 ? slice : null;
  },
  gates: (slice) => [new WorkingHoursGate(slice)],
  create: (slice, context) => new OffWorkPreference(slice.users, context),
};

export interface WorkingHoursNow {
  readonly open: boolean;
  /** When the user's window next opens or closes (ms since epoch), or null for never. */
  readonly nextChangeAt: number | null;
}

/** Whether a user is inside working hours at `now` (for `status`), or null when the user has none. */
export function workingHoursNow(config: PresenceBridgeConfig, userKey: string, now: number): WorkingHoursNow | null {
  const hours = resolve(config).slice.users.get(userKey);
  if (!hours) return null;
  return { open: isOpenAt(hours, now), nextChangeAt: nextChangeAfter(hours, now) };
}
