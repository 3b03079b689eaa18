import { EXIT, type CliCommand } from '../command.js';
import { withRetry } from '../../graph/withRetry.js';
import { MAX_SESSION_EXPIRATION_MS, MIN_SESSION_EXPIRATION_MS, parseIsoDuration } from '../../presence/duration.js';
import { formatPresence, parseSessionPair, SESSION_PAIR_LIST } from '../../presence/presencePair.js';
import { EXIT_CODES_HELP, parseCommandArgs, parseRetries, reportError, resolveSessionUser, UsageError, withGraphSession, WRITE_HELP, WRITE_OPTIONS } from '../shared.js';

const USAGE = 'Usage: presence-bridge set --config FILE [--user KEY] Availability/Activity [--expiration PT1H]';

/** Checks an expirationDuration against Graph's bounds; returns it normalised to upper case. */
export function checkExpiration(text: string): string {
  const ms = parseIsoDuration(text);
  if (ms === undefined) throw new UsageError(`--expiration "${text}" is not an ISO 8601 duration such as PT30M or PT1H`);
  if (ms < MIN_SESSION_EXPIRATION_MS || ms > MAX_SESSION_EXPIRATION_MS) {
    throw new UsageError(`--expiration ${text} is outside what Graph accepts (PT5M to PT4H)`);
  }
  return text.trim().toUpperCase();
}

export const command: CliCommand = {
  name: 'set',
  summary: 'Set a user\'s presence once through the app\'s presence session',
  help: `${USAGE}

Posts one setPresence for the user, with the application's client id as the session id, and
exits. The session lasts for --expiration (default graph.expiration from the config); an
Available session fades after 5 minutes unless it is posted again. The daemon (run) renews
sessions by itself; this command is for trying the setup out.

Presences: ${SESSION_PAIR_LIST}

Options:
${WRITE_HELP}
  -e, --expiration DUR  session length, ISO 8601, PT5M to PT4H

${EXIT_CODES_HELP}
Example: presence-bridge set --config config.json --user alex Busy/InACall --expiration PT30M`,
  async run(args, io) {
    try {
      const { values, positionals } = parseCommandArgs(args, {
        ...WRITE_OPTIONS,
        expiration: { type: 'string', short: 'e' },
      });
      if (positionals.length !== 1) throw new UsageError('give exactly one presence, e.g. Busy/InACall');
      const pair = parseSessionPair(positionals[0] ?? '');
      if (!pair) throw new UsageError(`"${positionals[0]}" is not a presence setPresence accepts; use one of: ${SESSION_PAIR_LIST}`);
      const retries = parseRetries(values.retries);
      return await withGraphSession(io, values, async (session) => {
        const { config, stack, logger, clock } = session;
        const user = await resolveSessionUser(session, values.user);
        const expiration = checkExpiration(values.expiration ?? config.graph.expiration);
        await withRetry(() => stack.client.setPresence(user.id, pair, expiration), { clock, maxAttempts: retries + 1, logger, label: `setPresence ${user.key}` });
        io.stdout.write(`${user.key}: ${formatPresence(pair)} for ${expiration} (session ${stack.client.sessionId})\n`);
        return EXIT.ok;
      });
    } catch (error) {
      return reportError(io, 'set', error, USAGE);
    }
  },
};
