import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreBridge } from '../bridge.js';
import { createBridge } from '../bridge.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { validateConfig } from '../configuration.js';
import type { Emulator } from '../emulator/index.js';
import { startEmulator } from '../emulator/index.js';
import { defineFeature, FEATURES } from '../features.js';
import type { FeatureContext } from '../feature.js';
import { httpFeature, HttpServerFeature, type HttpSectionConfig } from '../httpServer/index.js';
import type { Logger } from '../logger.js';
import { errorMessage, prefixedLogger } from '../logger.js';
import { demoStatusPageFeature, statusPageFeature } from '../statusPage/feature.js';
import type { EmbeddedBroker } from './broker.js';
import { startEmbeddedBroker } from './broker.js';
import type { DemoStep } from './demoConfig.js';
import { DEMO_STEPS, demoConfig, demoTeamsUser, LEE_TEAMS_SESSION, mosquittoPubCommand, npxMqttPubCommand } from './demoConfig.js';

export { DEMO_STEPS, demoConfig, mosquittoPubCommand, npxMqttPubCommand, shellQuote, type DemoStep } from './demoConfig.js';
export { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';

export { DEFAULT_TIME_SCALE } from './demoConfig.js';
import { DEFAULT_TIME_SCALE } from './demoConfig.js';
/** How long the demo waits for the bridge to subscribe before it says "try it" anyway. */
const SUBSCRIBE_WAIT_MS = 10_000;

export interface DemoOptions {
  readonly logger: Logger;
  /** Status page port; 0 (default) picks a free one. */
  readonly statusPort?: number;
  /** Broker port; 0 (default) picks a free one. */
  readonly mqttPort?: number;
  /** Emulated seconds per real second (default 60: a 5-minute fade passes in 5 s). */
  readonly timeScale?: number;
}

export interface Demo {
  readonly config: PresenceBridgeConfig;
  /** Where the config the demo runs with was written (removed when the demo stops). */
  readonly configFile: string;
  readonly broker: Pick<EmbeddedBroker, 'host' | 'port' | 'url'>;
  readonly statusUrl: string;
  readonly emulator: Emulator;
  readonly bridge: CoreBridge;
  readonly timeScale: number;
  readonly steps: readonly DemoStep[];
  /** The text the CLI prints: addresses, the config file, and copy-pasteable commands. */
  instructions(): string;
  /** Stops everything it started (clearing presence first) and removes its temporary folder. */
  stop(): Promise<void>;
}

/**
 * Everything `presence-bridge demo` runs, in one process and on loopback only: an embedded MQTT
 * broker, the Graph emulator with time sped up, the bridge on the emulator's own clock (so the two
 * agree on when sessions fade and expire), and the status page with buttons.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const logger = options.logger;
  const timeScale = options.timeScale ?? DEFAULT_TIME_SCALE;
  if (!(timeScale > 0 && timeScale <= 3600)) throw new RangeError(`time scale must be between 0 and 3600, got ${timeScale}`);
  const undo: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.error(`demo: stopping failed: ${errorMessage(error)}`);
      }
    }
    undo.length = 0;
  };

  try {
    const folder = await mkdtemp(join(tmpdir(), 'presence-bridge-demo-'));
    undo.push(() => rm(folder, { recursive: true, force: true }));

    const broker = await startEmbeddedBroker({ port: options.mqttPort ?? 0, logger: prefixedLogger(logger, '[broker]') });
    undo.push(() => broker.close());

    // A day-long token (emulated): at ×60 that is 24 real minutes, so MSAL is not refreshing all the time.
    const emulator = await startEmulator({ timeScale, tokenLifetimeSeconds: 86_400, logger: prefixedLogger(logger, '[emulator]') });
    undo.push(() => emulator.close());
    // Most users have Teams running: Lee's client holds a session of its own (Busy, in a meeting).
    const lee = demoTeamsUser(emulator);
    if (lee) emulator.addSession(lee.user.id, { ...LEE_TEAMS_SESSION });

    // The status page and health routes on the one local HTTP server, as `run --http` has them.
    const raw = { ...demoConfig(emulator, broker.url), http: { port: options.statusPort ?? 0 } };
    const checked = validateConfig(raw);
    if (!checked.ok) throw new Error(`the demo config is invalid (a bug): ${checked.errors.join('; ')}`);
    const config = checked.config;
    const configFile = join(folder, 'config.json');
    await writeFile(configFile, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o600 });

    let server: HttpServerFeature | undefined;
    const page = demoStatusPageFeature({
      name: 'Presence Bridge demo',
      timeScale,
      demo: { buttons: DEMO_STEPS.map((s) => ({ label: s.label, topic: s.topic, payload: s.payload })), publish: (topic, payload) => broker.publish(topic, payload) },
    });
    // The registry's features, with the demo's page in place of the plain one, and a hold on the server for its address.
    const features = FEATURES.map((d) =>
      d.name === statusPageFeature.name
        ? defineFeature(page)
        : d.name === httpFeature.name
          ? defineFeature({ ...httpFeature, create: (slice: HttpSectionConfig, context: FeatureContext) => (server = new HttpServerFeature(slice, context)) })
          : d,
    );
    const bridge = createBridge(config, { logger, clock: emulator.clock, storagePath: folder, features });
    undo.push(() => bridge.stop());
    await bridge.start();
    const statusUrl = server?.listening?.url;
    if (statusUrl === undefined) throw new Error('the status page did not start (see the log above)');
    const topics = config.inputs.flatMap((i) => (i.type === 'mqtt' ? [i.topic] : []));
    if (!(await broker.whenSubscribed(topics, SUBSCRIBE_WAIT_MS))) logger.warn('demo: the bridge has not subscribed to its topics yet; messages sent now may be missed');


    let stopping: Promise<void> | undefined;
    return {
      config,
      configFile,
      broker: { host: broker.host, port: broker.port, url: broker.url },
      statusUrl,
      emulator,
      bridge,
      timeScale,
      steps: DEMO_STEPS,
      instructions: () => instructions({ statusUrl, brokerHost: broker.host, brokerPort: broker.port, configFile, timeScale, emulator, config }),
      stop: () => (stopping ??= unwind()),
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

function instructions(facts: {
  statusUrl: string;
  brokerHost: string;
  brokerPort: number;
  configFile: string;
  timeScale: number;
  emulator: Emulator;
  config: PresenceBridgeConfig;
}): string {
  const users = facts.config.users.map((u) => `${u.name ?? u.key} (${u.key})`).join(', ');
  const fade = facts.timeScale === 1 ? '' : ` (time runs ×${facts.timeScale}: Graph's 5-minute fade of Available takes ${formatSeconds(300 / facts.timeScale)})`;
  const lines = [
    '',
    `Presence Bridge demo is running${fade}.`,
    '',
    `  Status page:  ${facts.statusUrl}   (open it in a browser; it has buttons too)`,
    `  MQTT broker:  ${facts.brokerHost}:${facts.brokerPort} (embedded, MQTT 3.1.1)`,
    `  Graph:        emulated at ${facts.emulator.graphBaseUrl} for ${users}`,
    `  Config used:  ${facts.configFile}`,
    '',
    'Try it from another terminal (Mosquitto clients, or Node only with npx):',
  ];
  DEMO_STEPS.forEach((step, i) => {
    lines.push('', `  ${i + 1}. ${step.what}`);
    lines.push(`     ${mosquittoPubCommand(facts.brokerHost, facts.brokerPort, step.topic, step.payload)}`);
    lines.push(`     ${npxMqttPubCommand(facts.brokerHost, facts.brokerPort, step.topic, step.payload)}`);
  });
  lines.push('', 'Press Ctrl-C to stop: presence is cleared and nothing is left running.', '');
  return lines.join('\n');
}

function formatSeconds(seconds: number): string {
  return seconds >= 1 ? `${Math.round(seconds * 10) / 10} s` : `${Math.round(seconds * 1000)} ms`;
}
