import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createBridge } from '../../src/bridge.js';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/command.js';
import { loadConfigFile } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import type { FeatureContext } from '../../src/feature.js';
import { FEATURES } from '../../src/features.js';
import { ordinalFromHostname, resolveShard } from '../../src/fleet/shard.js';
import { ManualClock } from '../../src/shared/clock.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { ReadinessChecks } from '../../src/shared/readiness.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { Collect } from '../helpers/collect.js';
import { capturingLogger } from '../helpers/logger.js';
import { removeDir, tempDir } from '../helpers/tempDir.js';

/**
 * Issue 19 item 6: the Kubernetes example. check-config (the real CLI) on exactly the file the
 * kustomization turns into the mounted ConfigMap, and the manifests checked against that config:
 * replicas = shards, probes and the scrape on the config's HTTP port, paths and mounts that match.
 */

const DIR = fileURLToPath(new URL('../../examples/kubernetes/', import.meta.url));

type Doc = Record<string, unknown>;
const docs = (file: string): Doc[] => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Doc);
const get = (value: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);

const kustomization = docs('kustomization.yaml')[0]!;
const generator = (get(kustomization, 'configMapGenerator') as Doc[])[0]!;
const configFile = join(DIR, (get(generator, 'files', 0) as string));
const statefulSet = docs('statefulset.yaml')[0]!;
const pod = get(statefulSet, 'spec', 'template', 'spec') as Doc;
const container = (get(pod, 'containers') as Doc[])[0]!;
const args = get(container, 'args') as string[];
const argOf = (flag: string): string => args[args.indexOf(flag) + 1]!;
const mountOf = (volume: string): string => (get(container, 'volumeMounts') as Doc[]).find((m) => m['name'] === volume)!['mountPath'] as string;

async function loaded(): Promise<PresenceBridgeConfig> {
  const result = await loadConfigFile(configFile);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

describe('examples/kubernetes', () => {
  it('lists every manifest it applies, and generates the ConfigMap from the config file the test checks', () => {
    for (const file of get(kustomization, 'resources') as string[]) expect(existsSync(join(DIR, file)), file).toBe(true);
    expect(generator['name']).toBe('presence-bridge-config');
    expect(get(generator, 'files')).toEqual(['presence-bridge.json']);
  });

  it('check-config (the real CLI) accepts exactly the config the ConfigMap mounts', async () => {
    const stdout = new Collect();
    const stderr = new Collect();
    const io: CliIo = { stdout, stderr, env: {}, cwd: DIR, interrupted: new Promise<void>(() => undefined) };
    const code = await main(['check-config', configFile], io);
    expect(stderr.text).toBe('');
    expect(code).toBe(0);
    expect(stdout.text).toContain('presence-bridge.json: valid');
  });

  it('the pod runs that file from the ConfigMap\'s mount, with its storage on the volume claim', () => {
    const volumes = get(pod, 'volumes') as Doc[];
    expect(get(volumes.find((v) => v['name'] === 'config'), 'configMap', 'name')).toBe(generator['name']);
    expect(argOf('--config')).toBe(`${mountOf('config')}/presence-bridge.json`);
    expect(args[0]).toBe('run');
    expect(argOf('--storage')).toBe(mountOf('storage'));
    expect(get(statefulSet, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name')).toBe('storage');
  });

  it('every file the config names is a key of the Secret, mounted where the config looks', async () => {
    const config = await loaded();
    const secret = docs('secret.yaml')[0]!;
    const volumes = get(pod, 'volumes') as Doc[];
    expect(get(volumes.find((v) => v['name'] === 'credentials'), 'secret', 'secretName')).toBe(get(secret, 'metadata', 'name'));
    const files = [config.auth.mode === 'application' ? config.auth.certificate?.privateKeyFile : undefined, config.auth.mode === 'application' ? config.auth.certificate?.certificateFile : undefined, config.mqtt?.ca, config.mqtt?.cert, config.mqtt?.key];
    const keys = Object.keys(get(secret, 'stringData') as Doc);
    for (const file of files) {
      expect(file).toBeDefined();
      expect(file!.startsWith(`${mountOf('credentials')}/`), file).toBe(true);
      expect(keys).toContain(file!.slice(mountOf('credentials').length + 1));
    }
    // no secret value in the ConfigMap: sign-in by certificate, the broker by client certificate
    expect(config.auth.mode === 'application' && config.auth.clientSecret).toBeFalsy();
    expect(config.mqtt?.password).toBeUndefined();
  });

  it('runs one pod per shard, each taking its shard from its ordinal', async () => {
    const config = await loaded();
    const replicas = get(statefulSet, 'spec', 'replicas') as number;
    expect(config.fleet?.shardCount).toBe(replicas);
    const name = get(statefulSet, 'metadata', 'name') as string;
    const shards = Array.from({ length: replicas }, (_, i) => resolveShard({ config: config.fleet?.shard, shardCount: config.fleet?.shardCount, hostname: `${name}-${i}`, env: {} }));
    expect(shards.map((s) => `${s.index}/${s.count}`)).toEqual(Array.from({ length: replicas }, (_, i) => `${i}/${replicas}`));
    expect(ordinalFromHostname(`${name}-2`)).toBe(2);
    expect(get(statefulSet, 'spec', 'serviceName')).toBe(get(docs('services.yaml').find((s) => get(s, 'spec', 'clusterIP') === 'None'), 'metadata', 'name'));
  });

  it('probes and the scrape use the port the config\'s HTTP server listens on, beyond loopback', async () => {
    const config = await loaded();
    const ports = get(container, 'ports') as Doc[];
    const http = ports.find((p) => p['name'] === 'http')!;
    expect(http['containerPort']).toBe(config.http?.port);
    expect(config.http?.host).toBe('0.0.0.0'); // the kubelet probes the pod's IP
    expect(get(container, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: 'http' });
    expect(get(container, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'http' });
    for (const service of docs('services.yaml')) {
      for (const port of get(service, 'spec', 'ports') as Doc[]) expect(port['targetPort']).toBe('http');
    }
    const metrics = docs('services.yaml').find((s) => get(s, 'metadata', 'name') === 'presence-bridge-metrics')!;
    expect(get(metrics, 'metadata', 'annotations', 'prometheus.io/port')).toBe(String(config.http?.port));
  });

  it('the scraped path is a route the config\'s features really register, open to a scrape without a token', async () => {
    const config = await loaded();
    const metrics = docs('services.yaml').find((s) => get(s, 'metadata', 'name') === 'presence-bridge-metrics')!;
    const path = get(metrics, 'metadata', 'annotations', 'prometheus.io/path') as string;
    // every feature the config selects, built on real pieces; only metrics is started (its code
    // loads and registers its route at start), nothing else connects
    const routes = new RouteTable();
    const logger = capturingLogger();
    const clock = new ManualClock();
    const storagePath = await tempDir('pb-k8s-');
    const bridge = createBridge(config, { logger, clock, storagePath, routes, features: [] });
    const http = new UndiciHttpClient();
    const context: FeatureContext = { logger, clock, storagePath, config, bridge, events: bridge.events.listenOnly(), http, routes, instance: { id: 'presence-bridge-0', shard: { index: 0, count: 3 } }, readiness: new ReadinessChecks() };
    const started = [];
    for (const feature of FEATURES) {
      if (!feature.uses(config)) continue;
      const part = feature.build(config, context);
      if (part && feature.name === 'metrics') {
        await part.start();
        started.push(part);
      }
    }
    expect(started).toHaveLength(1);
    for (const part of started) await part.stop();
    await removeDir(storagePath);
    await http.close();
    for (const route of [path, '/healthz', '/readyz']) {
      const match = routes.match('GET', route);
      expect(match.kind, route).toBe('found');
      expect(match.kind === 'found' && match.access, route).toBe('open');
    }
  });
});
