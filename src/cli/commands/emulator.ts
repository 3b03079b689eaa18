import { parseArgs } from 'node:util';
import type { CliCommand } from '../command.js';
import { EXIT } from '../command.js';
import { createConsoleLogger } from '../consoleLogger.js';
import { DemoPackagesMissing, loadWithDemoPackages } from '../demoPackages.js';
import { errorMessage } from '../../logger.js';
import { isAbsolute, resolve } from 'node:path';

const HELP = `Usage: presence-bridge emulator [options]

Runs the Microsoft Graph presence + Entra ID sign-in emulator over HTTPS on this machine, so a
config can be tried without touching real Teams presence. Prints one JSON line of facts on
stdout (authorityHost, graphBaseUrl, caCertFile, tenantId, apps, users) and logs to stderr.
Point auth.authorityHost and graph.baseUrl at it and trust caCertFile (its CA is limited to
localhost, 127.0.0.0/8 and ::1 by name constraints). Stops on Ctrl-C. Needs the packages
selfsigned and @peculiar/x509: a clone has them; an installed plugin does not, and says what to install.

Options:
      --port N              port to listen on (default 0: a free port)
      --host ADDRESS        address to listen on (default 127.0.0.1)
      --time-scale X        emulated seconds per real second (default 1; 60 makes a 5-minute fade last 5 s)
      --state FILE          keep tenant, apps, users, sessions and sign-ins in FILE across restarts
      --token-lifetime S    access token lifetime in emulated seconds (default 3600)
      --ca-cert FILE        where to write the CA certificate (default: a temporary folder)
  -v, --verbose             log every request
  -h, --help                this help

Control routes (under /_emulator/): facts, requests, faults, devicecode/approve, users/{id}/sessions,
users/{id}/preferred, time. See docs/emulator.md.
`;

function positiveNumber(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) throw new Error(`${name} must be a ${integer ? 'whole ' : ''}number >= 0, got "${text}"`);
  return value;
}

export const command: CliCommand = {
  name: 'emulator',
  summary: 'Run the Graph presence and sign-in emulator (HTTPS, loopback) for dry runs.',
  help: HELP,
  async run(args, io) {
    let values: { port?: string; host?: string; 'time-scale'?: string; state?: string; 'token-lifetime'?: string; 'ca-cert'?: string; verbose?: boolean };
    let port: number | undefined;
    let timeScale: number | undefined;
    let tokenLifetime: number | undefined;
    try {
      ({ values } = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          'time-scale': { type: 'string' },
          state: { type: 'string' },
          'token-lifetime': { type: 'string' },
          'ca-cert': { type: 'string' },
          verbose: { type: 'boolean', short: 'v' },
        },
      }));
      port = positiveNumber('--port', values.port, true);
      if (port !== undefined && port > 65535) throw new Error('--port must be at most 65535');
      timeScale = positiveNumber('--time-scale', values['time-scale'], false);
      if (timeScale === 0) throw new Error('--time-scale must be above 0');
      tokenLifetime = positiveNumber('--token-lifetime', values['token-lifetime'], true);
      if (tokenLifetime !== undefined && tokenLifetime < 60) throw new Error('--token-lifetime must be at least 60 seconds');
    } catch (error) {
      io.stderr.write(`presence-bridge emulator: ${errorMessage(error).replace(/\. To specify a positional argument.*$/s, '')}\n\n${HELP}`);
      return EXIT.usage;
    }
    const logger = createConsoleLogger({ stream: io.stderr, level: values.verbose ? 'debug' : 'info', env: io.env });
    const path = (p: string | undefined): string | undefined => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(io.cwd, p));
    let emulator;
    try {
      // Loaded only now: its certificate packages are not installed with the plugin.
      const { startEmulator } = await loadWithDemoPackages('presence-bridge emulator', () => import('../../emulator/index.js'));
      emulator = await startEmulator({
        ...(port !== undefined ? { port } : {}),
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(timeScale !== undefined ? { timeScale } : {}),
        ...(tokenLifetime !== undefined ? { tokenLifetimeSeconds: tokenLifetime } : {}),
        ...(values.state !== undefined ? { stateFile: path(values.state) } : {}),
        ...(values['ca-cert'] !== undefined ? { caCertFile: path(values['ca-cert']) } : {}),
        logger,
      });
    } catch (error) {
      if (error instanceof DemoPackagesMissing) io.stderr.write(`presence-bridge emulator: ${error.message}\n`);
      else io.stderr.write(`presence-bridge emulator: cannot start: ${errorMessage(error)}\n`);
      return EXIT.failure;
    }
    io.stdout.write(`${JSON.stringify(emulator.facts())}\n`);
    const [first] = emulator.users;
    logger.info(`emulator: sign in at ${emulator.authorityHost}/${emulator.tenantId}; Graph at ${emulator.graphBaseUrl}/v1.0; trust ${emulator.caCertFile}`);
    if (first) logger.info(`emulator: device code page ${emulator.authorityHost}/devicelogin; try GET ${emulator.graphBaseUrl}/_emulator/users/${first.id}/sessions`);
    await io.interrupted;
    logger.info('emulator: stopping');
    await emulator.close();
    return EXIT.ok;
  },
};
