import { z } from 'zod';
import { DAYS } from './schedule.js';
import { isKnownTimeZone } from './zonedTime.js';

const START = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const END = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;

export const hoursWindowSchema = z
  .object({
    days: z
      .array(z.enum(DAYS))
      .min(1)
      .default(['mon', 'tue', 'wed', 'thu', 'fri'])
      .meta({ title: 'Days', description: 'Days the window starts on (mon … sun); a window that crosses midnight ends on the next day.' }),
    from: z.string().regex(START, 'use HH:MM, 00:00 to 23:59').meta({ title: 'From', description: 'Local start time, HH:MM (24-hour clock).' }),
    to: z
      .string()
      .regex(END, 'use HH:MM, 00:00 to 24:00')
      .meta({ title: 'To', description: 'Local end time, HH:MM or 24:00; earlier than From means the window ends the next day (a night shift).' }),
  })
  .strict()
  .refine((w) => w.from !== w.to, { message: 'from and to must differ', path: ['to'] });

const timeZone = z
  .string()
  .refine(isKnownTimeZone, 'not an IANA time zone this platform knows (e.g. Europe/Berlin, America/New_York)')
  .meta({ title: 'Time zone', description: 'IANA time zone of the windows, e.g. Europe/Berlin; daylight-saving changes follow it.' });

const windows = z.array(hoursWindowSchema).min(1).meta({ title: 'Windows', description: 'Weekly working windows: days, from, to.' });

const outside = z
  .enum(['clear', 'inputsWork'])
  .meta({ title: 'Outside working hours', description: 'clear: inputs are ignored and the session is cleared (exempt inputs still work); inputsWork: inputs keep working.' });

const preferOutside = z
  .enum(['Offline/OffWork'])
  .meta({ title: 'Appear offline after work', description: 'Opt-in: set this preferred presence when a window closes and withdraw it when the next opens; a preferred presence the user set themselves is never touched. Needs Presence.ReadWrite.All (application) or Presence.ReadWrite (delegated).' });

const enabled = z.boolean().meta({ title: 'Enabled', description: 'false turns working hours off (for everyone, or for this user).' });

/** The `workingHours` section: the default for every user. */
export const workingHoursSectionSchema = z
  .object({
    enabled: enabled.default(true),
    timeZone,
    windows,
    outside: outside.default('clear'),
    preferOutside: preferOutside.optional(),
    exemptInputs: z
      .array(z.string().min(1))
      .default([])
      .meta({ title: 'Exempt inputs', description: 'Input names that work at any hour, including built-in ones such as homekit or mqtt-command (configured inputs can also set workingHoursExempt).' }),
  })
  .strict();

/** `users[].workingHours`: overrides the section field by field (a user in another zone, a part-timer). */
export const userWorkingHoursSchema = z
  .object({
    enabled: enabled.optional(),
    timeZone: timeZone.optional(),
    windows: windows.optional(),
    outside: outside.optional(),
    preferOutside: preferOutside.optional(),
  })
  .strict()
  .meta({ title: 'Working hours', description: 'This user\'s own working hours; fields left out come from the workingHours section.' });

export const workingHoursExemptSchema = z
  .boolean()
  .optional()
  .meta({ title: 'Works outside working hours', description: 'true: this input sets presence at any hour (a Do Not Disturb button).' });

export type WorkingHoursSection = z.output<typeof workingHoursSectionSchema>;
export type UserWorkingHours = z.output<typeof userWorkingHoursSchema>;

/** One user's effective working hours. */
export interface UserHours {
  readonly timeZone: string;
  readonly windows: z.output<typeof hoursWindowSchema>[];
  readonly outside: 'clear' | 'inputsWork';
  readonly preferOutside?: 'Offline/OffWork' | undefined;
}

declare module '../config/schema.js' {
  interface FeatureSections {
    workingHours?: WorkingHoursSection;
  }
  interface FeatureUserFields {
    workingHours?: UserWorkingHours;
  }
  interface FeatureInputFields {
    workingHoursExempt?: boolean;
  }
}
