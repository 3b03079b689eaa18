import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { changed } from '../mqtt/support.js';
import { hostileBridge, online, waitFor } from './support.js';

/**
 * The Mosquitto ACL file of docs/mqtt.md ("Access control"), read from the doc itself, enforced
 * by a real Mosquitto; the bridge works under it and nobody gets more than the file allows.
 */

const DOC = new URL('../../docs/mqtt.md', import.meta.url);

/** The fenced block after the `acl-file` marker in docs/mqtt.md. */
function documentedAcl(): string {
  const text = readFileSync(DOC, 'utf8');
  const match = /<!-- acl-file:[^>]*-->\s*```text\n([\s\S]*?)```/.exec(text);
  if (!match?.[1]) throw new Error('docs/mqtt.md has no acl-file block');
  return match[1];
}

const PASSWORDS = { 'presence-bridge': 'bridge-pw', 'desk-alex': 'alex-pw', 'desk-sam': 'sam-pw', homeassistant: 'ha-pw', zigbee2mqtt: 'z2m-pw' };

let broker: Mosquitto;
let aclDir: string;
beforeAll(async () => {
  aclDir = mkdtempSync(join(tmpdir(), 'pb-acl-'));
  const aclFile = join(aclDir, 'acl');
  writeFileSync(aclFile, documentedAcl());
  broker = await startMosquitto({ users: PASSWORDS, extraConfig: [`acl_file ${aclFile}`] });
});
afterAll(async () => {
  await broker?.close();
  rmSync(aclDir, { recursive: true, force: true });
});
const cleanups = cleanupAfterEach();

async function client(user: keyof typeof PASSWORDS): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: user, password: PASSWORDS[user], reconnectPeriod: 0, clean: true });
  cleanups.push(() => c.endAsync(true));
  return c;
}

describe('the documented Mosquitto ACL', () => {
  it('the bridge reads its inputs and set topic and writes under its base topic; devices write only their own topic', async () => {
    const s = await hostileBridge({
      url: broker.url,
      cleanups,
      base: 'presence-bridge',
      mqtt: { username: 'presence-bridge', password: PASSWORDS['presence-bridge'], homeAssistant: true },
      inputs: () => [
        { name: 'Alex hook', type: 'mqtt', topic: 'desks/desk-alex/hook', user: 'alex', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
        { name: 'Sam button', type: 'mqtt', topic: 'zigbee2mqtt/sam_button', field: 'action', user: 'sam', map: { single: 'Away/Away' } },
      ],
      watcherOptions: { username: 'homeassistant', password: PASSWORDS.homeassistant },
    });
    await online(s);
    expect(s.logger.count('error', /refused the subscription/)).toBe(0);

    // Each device on its own topic: acted on.
    const alexDesk = await client('desk-alex');
    await alexDesk.publishAsync('desks/desk-alex/hook', 'OFFHOOK', { qos: 1 });
    await waitFor(() => s.presence('alex') === 'Busy/InACall', "alex's own device", 30_000);
    const z2m = await client('zigbee2mqtt');
    await z2m.publishAsync('zigbee2mqtt/sam_button', '{"action":"single"}', { qos: 1 });
    await waitFor(() => s.presence('sam') === 'Away/Away', 'the zigbee2mqtt button', 30_000);

    // Another device may not write alex's topic, nor command anyone's presence: the broker says no.
    const samDesk = await client('desk-sam');
    await expect(samDesk.publishAsync('desks/desk-alex/hook', 'ONHOOK', { qos: 1 })).rejects.toThrow(/135|authori/i);
    await expect(samDesk.publishAsync('presence-bridge/alex/set', 'clear', { qos: 1 })).rejects.toThrow(/135|authori/i);
    await expect(samDesk.publishAsync('presence-bridge/alex/state', '{}', { qos: 1, retain: true })).rejects.toThrow(/135|authori/i);
    // Home Assistant may command; the bridge's answers and state reach it.
    await s.watcher.publish('presence-bridge/kim/set', 'DoNotDisturb/Presenting');
    await waitFor(() => s.presence('kim') === 'DoNotDisturb/Presenting', "Home Assistant's command", 30_000);
    await waitFor(() => (s.watcher.json('presence-bridge/kim/state') as { desired?: string } | undefined)?.desired === 'DoNotDisturb/Presenting', 'state topic');
    expect(s.presence('alex')).toBe('Busy/InACall');

    // Discovery went out under the bridge's own node.
    const discovery: string[] = [];
    const ha = await client('homeassistant');
    ha.on('message', (topic) => {
      discovery.push(topic);
      changed();
    });
    await ha.subscribeAsync('homeassistant/#', { qos: 1 });
    await waitFor(() => discovery.includes('homeassistant/select/presence-bridge/alex_presence_set/config'), 'discovery', 10_000);
  });
});
