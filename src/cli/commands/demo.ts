import { parseArgs } from 'node:util';
import type { Demo } from '../../demo/index.js';
import { DEFAULT_TIME_SCALE } from '../../demo/demoConfig.js';
import { errorMessage } from '../../logger.js';
import type { CliCommand, CliIo } from '../command.js';
import { EXIT } from '../command.js';
import { createConsoleLogger, parseLogLevel } from '../consoleLogger.js';
import { DemoPackagesMissing, loadWithDemoPackages } from '../demoPackages.js';

const HELP = `Usage: presence-bridge demo [--port PORT] [--mqtt-port PORT] [--time-scale N] [--debug]

Shows the bridge working in a minute, with nothing but Node: starts an embedded MQTT broker,
an emulated Microsoft Graph and sign-in (time sped up so fading and renewals show in seconds),
and the bridge with an example config (a desk button for Alex, a headset for Megan), plus the
status page. It prints the page's address, the config it used, and mosquitto_pub / npx mqtt pub
commands to paste into another terminal. Everything listens on 127.0.0.1 only; nothing reaches
Microsoft. Ctrl-C stops it all. Needs the packages aedes, selfsigned and @peculiar/x509: a clone
has them (npm install); an installed plugin does not, and says what to install.

Options:
  --port PORT        Status page port (default: a free one).
  --mqtt-port PORT   Broker port (default: a free one; 1883 if you want the usual one).
  --time-scale N     Emulated seconds per real second (default ${DEFAULT_TIME_SCALE}; 1 is real time).
  --debug            Log every signal and Graph call.

Examples:
  presence-bridge demo
  presence-bridge demo --port 8080 --mqtt-port 1883
  npm start            (from a clone: builds, then runs the demo)
`;

function fail(io: CliIo, message: string): number {
  io.stderr.write(`presence-bridge demo: ${message}\n\n${HELP}`);
  return EXIT.usage;
}

function portOption(text: string | undefined, name: string): number | string | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 65_535 ? port : `${name} needs a port number, got "${text}"`;
}

export const command: CliCommand = {
  name: 'demo',
  summary: 'See it work: embedded broker, emulated Graph, the bridge and its status page.',
  help: HELP,
  async run(args, io) {
    let values: { port?: string; 'mqtt-port'?: string; 'time-scale'?: string; debug?: boolean };
    try {
      ({ values } = parseArgs({
        args,
        options: {
          port: { type: 'string' },
          'mqtt-port': { type: 'string' },
          'time-scale': { type: 'string' },
          debug: { type: 'boolean' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      return fail(io, errorMessage(error));
    }
    const statusPort = portOption(values.port, '--port');
    if (typeof statusPort === 'string') return fail(io, statusPort);
    const mqttPort = portOption(values['mqtt-port'], '--mqtt-port');
    if (typeof mqttPort === 'string') return fail(io, mqttPort);
    const timeScale = values['time-scale'] === undefined ? DEFAULT_TIME_SCALE : Number(values['time-scale']);
    if (!(timeScale > 0 && timeScale <= 3600)) return fail(io, `--time-scale needs a number above 0 and at most 3600, got "${values['time-scale'] ?? ''}"`);

    // Loaded only now: its broker and certificate packages are not installed with the plugin.
    let startDemo: typeof import('../../demo/index.js').startDemo;
    try {
      ({ startDemo } = await loadWithDemoPackages('presence-bridge demo', () => import('../../demo/index.js')));
    } catch (error) {
      if (!(error instanceof DemoPackagesMissing)) throw error;
      io.stderr.write(`presence-bridge demo: ${error.message}\n`);
      return EXIT.failure;
    }
    const level = values.debug ? 'debug' : (parseLogLevel(io.env.PRESENCE_BRIDGE_LOG_LEVEL) ?? 'info');
    const logger = createConsoleLogger({ stream: io.stdout, level, env: io.env });
    // The bridge's timers are unref'd; this keeps the demo alive until Ctrl-C.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let demo: Demo | undefined;
    try {
      demo = await startDemo({ logger, timeScale, ...(statusPort !== undefined ? { statusPort } : {}), ...(mqttPort !== undefined ? { mqttPort } : {}) });
      io.stdout.write(`${demo.instructions()}\n`);
      await io.interrupted;
      logger.info('stopping the demo');
      await demo.stop();
      logger.info('stopped');
      return EXIT.ok;
    } catch (error) {
      logger.error(`the demo failed: ${errorMessage(error)}`);
      await demo?.stop();
      return EXIT.failure;
    } finally {
      clearInterval(keepAlive);
    }
  },
};
