import { EXIT, type CliCommand } from '../command.js';
import { withRetry } from '../../graph/withRetry.js';
import { parseIsoDuration } from '../../presence/duration.js';
import { formatPresence, parsePreferredPair, PREFERRED_PAIR_LIST } from '../../presence/presencePair.js';
import { EXIT_CODES_HELP, parseCommandArgs, parseRetries, reportError, resolveSessionUser, UsageError, withGraphSession, WRITE_HELP, WRITE_OPTIONS } from '../shared.js';

const USAGE = 'Usage: presence-bridge prefer --config FILE [--user KEY] (Availability/Activity [--expiration PT8H] | --clear)';

export const command: CliCommand = {
  name: 'prefer',
  summary: 'Set or clear a user\'s preferred presence (overrides every session)',
  help: `${USAGE}

Posts setUserPreferredPresence: the user's presence becomes this whatever their sessions say,
like choosing a status in Teams, until --expiration ends it or --clear removes it.

Presences: ${PREFERRED_PAIR_LIST}

Options:
${WRITE_HELP}
  -e, --expiration DUR  how long it lasts, ISO 8601 (without it, Graph's default applies)
      --clear           remove the preferred presence instead (clearUserPreferredPresence)

${EXIT_CODES_HELP}
Example: presence-bridge prefer --config config.json --user alex DoNotDisturb/DoNotDisturb --expiration PT2H`,
  async run(args, io) {
    try {
      const { values, positionals } = parseCommandArgs(args, {
        ...WRITE_OPTIONS,
        expiration: { type: 'string', short: 'e' },
        clear: { type: 'boolean' },
      });
      const clear = values.clear === true;
      if (clear && (positionals.length > 0 || values.expiration !== undefined)) throw new UsageError('--clear takes no presence and no --expiration');
      if (!clear && positionals.length !== 1) throw new UsageError('give exactly one presence, e.g. DoNotDisturb/DoNotDisturb, or --clear');
      const pair = clear ? undefined : parsePreferredPair(positionals[0] ?? '');
      if (!clear && !pair) throw new UsageError(`"${positionals[0]}" is not a preferred presence; use one of: ${PREFERRED_PAIR_LIST}`);
      let expiration: string | undefined;
      if (values.expiration !== undefined) {
        const ms = parseIsoDuration(values.expiration);
        if (ms === undefined || ms <= 0) throw new UsageError(`--expiration "${values.expiration}" is not an ISO 8601 duration such as PT2H`);
        expiration = values.expiration.trim().toUpperCase();
      }
      const retries = parseRetries(values.retries);
      return await withGraphSession(io, values, async (session) => {
        const { stack, logger, clock } = session;
        const user = await resolveSessionUser(session, values.user);
        const options = { clock, maxAttempts: retries + 1, logger };
        if (pair) {
          await withRetry(() => stack.client.setUserPreferredPresence(user.id, pair, expiration), { ...options, label: `setUserPreferredPresence ${user.key}` });
          io.stdout.write(`${user.key}: preferred presence ${formatPresence(pair)}${expiration ? ` for ${expiration}` : ''}\n`);
        } else {
          await withRetry(() => stack.client.clearUserPreferredPresence(user.id), { ...options, label: `clearUserPreferredPresence ${user.key}` });
          io.stdout.write(`${user.key}: preferred presence cleared\n`);
        }
        return EXIT.ok;
      });
    } catch (error) {
      return reportError(io, 'prefer', error, USAGE);
    }
  },
};
