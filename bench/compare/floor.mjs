// The floor of the side-by-side benchmark: the least a program can do for the job, in its own
// process. A bare mqtt.js subscriber (MQTT 5, QoS 1 subscription, as the bridge and Node-RED)
// and an undici keep-alive pool; per message: parse JSON, look the user up, POST setPresence.
// No coalescing, no retry, no renewal, no state topics, no logging.
//
//   argv: CONFIG_JSON_FILE   ({ brokerUrl, graphBaseUrl, caCertFile, token, sessionId, ids, map })
// Prints "ready" once subscribed.
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { Pool } from 'undici';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const graph = new URL(config.graphBaseUrl);
const pool = new Pool(graph.origin, { connections: 32, pipelining: 1, connect: { ca: readFileSync(config.caCertFile, 'utf8') } });
const headers = { authorization: `Bearer ${config.token}`, 'content-type': 'application/json' };
const prefix = `${graph.pathname.replace(/\/$/, '')}/v1.0/users/`;

const client = mqtt.connect(config.brokerUrl, { clientId: `bench-floor-${process.pid}`, protocolVersion: 5, clean: true });
client.on('connect', () => {
  client.subscribe('bench/+/state', { qos: 1 }, () => console.log('ready'));
});
client.on('message', (topic, payload) => {
  let value;
  try {
    value = JSON.parse(payload.toString('utf8')).state;
  } catch {
    return;
  }
  const pair = config.map[value];
  const id = config.ids[topic.split('/')[1]];
  if (!pair || !id) return;
  const [availability, activity] = pair.split('/');
  const body = JSON.stringify({ sessionId: config.sessionId, availability, activity, expirationDuration: 'PT1H' });
  pool.request({ path: `${prefix}${id}/presence/setPresence`, method: 'POST', headers, body }).then(
    (res) => res.body.dump(),
    () => undefined,
  );
});
process.on('SIGTERM', () => {
  client.end(true);
  void pool.close().finally(() => process.exit(0));
});
