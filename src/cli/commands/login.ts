import { EXIT, type CliCommand } from '../command.js';
import { COMMON_HELP, COMMON_OPTIONS, parseCommandArgs, reportError, UsageError, withGraphSession } from '../shared.js';

const USAGE = 'Usage: presence-bridge login --config FILE [--storage DIR]';

/** How often a line shows the sign-in is still awaited. */
const PROGRESS_EVERY_MS = 15_000;

export const command: CliCommand = {
  name: 'login',
  summary: 'Sign in once with a device code (delegated mode) and cache the token',
  help: `${USAGE}

For auth.mode "delegated": prints a code and a web address; open the address on any device,
enter the code and sign in as the user whose presence the bridge sets. The refresh token is
kept in the storage folder (file mode 0600; default ~/.presence-bridge, the folder
presence-bridge run uses too), from where the bridge renews its access silently.
Signing in again replaces the account cached before. Application mode needs no login.

The Homebridge plugin keeps its cache in Homebridge's storage folder: run this command with
--storage pointing there (e.g. --storage /var/lib/homebridge), as the user Homebridge runs as,
or sign in from the plugin's settings page.

Options:
${COMMON_HELP}
      --timeout SEC   give up waiting for the sign-in after this many seconds

Exit codes: 0 signed in, 2 bad usage or config, 3 sign-in refused or expired, 4 unreachable.`,
  async run(args, io) {
    try {
      const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, timeout: { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      let timeoutSeconds: number | undefined;
      if (values.timeout !== undefined) {
        if (!/^\d+$/.test(values.timeout) || Number(values.timeout) < 1) throw new UsageError(`--timeout must be a whole number of seconds, got "${values.timeout}"`);
        timeoutSeconds = Number(values.timeout);
      }
      return await withGraphSession(io, values, async ({ config, stack }) => {
        if (config.auth.mode !== 'delegated') {
          throw new UsageError('login is for auth.mode "delegated"; application mode signs in with auth.clientSecret or auth.certificate by itself');
        }
        const abort = new AbortController();
        void io.interrupted.then(() => abort.abort());
        let progress: NodeJS.Timeout | undefined;
        const started = Date.now();
        try {
          const account = await stack.tokens.login(
            (prompt) => {
              io.stdout.write(
                [
                  prompt.message,
                  '',
                  `  address: ${prompt.verificationUri}`,
                  `  code:    ${prompt.userCode}`,
                  '',
                  `Waiting for the sign-in (the code expires in ${Math.round(prompt.expiresInSeconds / 60)} min; Ctrl+C to cancel)...`,
                  '',
                ].join('\n'),
              );
              progress = setInterval(() => {
                io.stderr.write(`still waiting for the sign-in (${Math.round((Date.now() - started) / 1000)} s)...\n`);
              }, PROGRESS_EVERY_MS);
              progress.unref();
            },
            { signal: abort.signal, timeoutSeconds },
          );
          io.stdout.write(`Signed in as ${account.username}${account.name ? ` (${account.name})` : ''}.\n`);
          io.stdout.write(`Token cache written to ${stack.tokens.cacheFile ?? '(none)'} (readable by this user only).\n`);
          return EXIT.ok;
        } finally {
          if (progress) clearInterval(progress);
        }
      });
    } catch (error) {
      return reportError(io, 'login', error, USAGE);
    }
  },
};
