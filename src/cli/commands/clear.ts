import { EXIT, type CliCommand } from '../command.js';
import { withRetry } from '../../graph/withRetry.js';
import { EXIT_CODES_HELP, parseCommandArgs, parseRetries, reportError, resolveSessionUser, UsageError, withGraphSession, WRITE_HELP, WRITE_OPTIONS } from '../shared.js';

const USAGE = 'Usage: presence-bridge clear --config FILE [--user KEY]';

export const command: CliCommand = {
  name: 'clear',
  summary: 'End the app\'s presence session for a user',
  help: `${USAGE}

Posts clearPresence with the application's client id as the session id. The user's presence
falls back to their other sessions (Teams itself) or a preferred presence. A session that is
already gone counts as cleared.

Options:
${WRITE_HELP}

${EXIT_CODES_HELP}`,
  async run(args, io) {
    try {
      const { values, positionals } = parseCommandArgs(args, WRITE_OPTIONS);
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const retries = parseRetries(values.retries);
      return await withGraphSession(io, values, async (session) => {
        const { stack, logger, clock } = session;
        const user = await resolveSessionUser(session, values.user);
        const outcome = await withRetry(() => stack.client.clearPresence(user.id), { clock, maxAttempts: retries + 1, logger, label: `clearPresence ${user.key}` });
        io.stdout.write(outcome === 'cleared' ? `${user.key}: session cleared\n` : `${user.key}: no session to clear (already cleared)\n`);
        return EXIT.ok;
      });
    } catch (error) {
      return reportError(io, 'clear', error, USAGE);
    }
  },
};
