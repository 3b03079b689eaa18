import { EXIT, type CliCommand } from '../command.js';
import { withRetry } from '../../graph/withRetry.js';
import type { UserPresence } from '../../graph/types.js';
import { OUTSIDE_NOTE, workingHoursNow } from '../../workingHours/index.js';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, parseRetries, reportError, resolveSessionUser, UsageError, withGraphSession } from '../shared.js';

const USAGE = 'Usage: presence-bridge status --config FILE [--user KEY] [--json]';

export const command: CliCommand = {
  name: 'status',
  summary: 'Show users\' presence as Microsoft Graph reports it',
  help: `${USAGE}

Reads the presence Graph shows for every configured user (or one with --user): the aggregate
of all their sessions and any preferred presence, which Teams clients display after a delay.
In application mode all users are read with one getPresencesByUserId request, by object id:
a user given by user principal name is looked up first (needs User.ReadBasic.All).

Options:
${COMMON_HELP}
  -u, --user KEY   only this configured user (users[].key); delegated mode shows the
                   signed-in user by default
      --json       print a JSON array of {key, id, availability, activity}, plus
                   workingHours {open, nextChangeAt} for users with working hours
      --retries N  retries on throttling or an unreachable Graph (default 3)

Exit codes: 0 done, 2 bad usage or config, 3 refused by Graph or sign-in, 4 unreachable.`,
  async run(args, io) {
    try {
      const { values, positionals } = parseCommandArgs(args, {
        ...COMMON_OPTIONS,
        user: { type: 'string', short: 'u' },
        json: { type: 'boolean' },
        retries: { type: 'string' },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const retries = parseRetries(values.retries);
      return await withGraphSession(io, values, async (session) => {
        const { config, stack, logger, clock } = session;
        // Delegated: the signed-in user only, unless --user names another.
        const users = values.user === undefined && config.auth.mode !== 'delegated' ? config.users : [await resolveSessionUser(session, values.user)];
        const options = { clock, maxAttempts: retries + 1, logger };
        // A user given by user principal name is resolved first, so a missing directory permission
        // or an unknown name is reported as such (exit 3 with the hint), not as an unknown presence.
        for (const user of users) await withRetry(() => stack.client.resolveUserId(user.id), { ...options, label: `resolve ${user.key}` });
        let presences: UserPresence[];
        if (config.auth.mode === 'application' && users.length > 1) {
          presences = await withRetry(() => stack.client.getPresences(users.map((u) => u.id)), { ...options, label: 'getPresencesByUserId' });
        } else {
          // getPresencesByUserId needs Presence.Read.All, which a delegated sign-in lacks.
          presences = [];
          for (const user of users) {
            const presence = await withRetry(() => stack.client.getPresence(user.id), { ...options, label: `getPresence ${user.key}` });
            // Graph answers with the object id; keep the id as configured.
            presences.push({ ...presence, id: user.id });
          }
        }
        const rows = users.map((user) => {
          const found = presences.find((p) => p.id.toLowerCase() === user.id.toLowerCase());
          const hours = workingHoursNow(config, user.key, clock.now());
          const workingHours = hours ? { workingHours: { open: hours.open, nextChangeAt: hours.nextChangeAt === null ? null : new Date(hours.nextChangeAt).toISOString() } } : {};
          return { key: user.key, id: user.id, availability: found?.availability ?? 'PresenceUnknown', activity: found?.activity ?? 'PresenceUnknown', ...workingHours };
        });
        if (values.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          const width = Math.max(...rows.map((r) => r.key.length));
          for (const row of rows) {
            const hours = row.workingHours;
            const note = hours && !hours.open ? `  (${OUTSIDE_NOTE}${hours.nextChangeAt === null ? '' : ` until ${hours.nextChangeAt}`})` : '';
            io.stdout.write(`${row.key.padEnd(width)}  ${row.availability}/${row.activity}${note}\n`);
          }
        }
        return EXIT.ok;
      });
    } catch (error) {
      return reportError(io, 'status', error, USAGE);
    }
  },
};
