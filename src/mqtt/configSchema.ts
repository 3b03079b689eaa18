import { z } from 'zod';
import { inputFields } from '../config/schema.js';

/** The MQTT feature's slice of the config: the `mqtt` section and inputs of type `mqtt`. */

export const mqttInputSchema = z
  .object({
    type: z.literal('mqtt').meta({ title: 'Type', description: 'mqtt: values arrive as messages on a topic; serial: values arrive as lines on a serial port.' }),
    name: inputFields.name,
    user: inputFields.user,
    topic: z.string().min(1).meta({ title: 'Topic', description: 'MQTT topic to subscribe to; + and # wildcards are allowed.' }),
    field: inputFields.field,
    values: inputFields.values,
    map: inputFields.map,
    toggle: inputFields.toggle,
  })
  .strict();

export const mqttSchema = z
  .object({
    url: z.string().min(1).meta({ title: 'Broker URL', description: 'mqtt://, mqtts://, ws:// or wss:// URL of the broker.' }),
    username: z.string().optional().meta({ title: 'Username', description: 'Broker username.' }),
    password: z.string().optional().meta({ title: 'Password', description: 'Broker password. Never logged.', secret: true }),
    ca: z.string().optional().meta({ title: 'CA file', description: 'PEM file of the CA that signed the broker\'s certificate. A relative path starts at the config file\'s folder (Homebridge: its storage folder).' }),
    cert: z.string().optional().meta({ title: 'Client certificate file', description: 'PEM client certificate, for brokers that require one. A relative path starts at the config file\'s folder (Homebridge: its storage folder).' }),
    key: z.string().optional().meta({ title: 'Client key file', description: 'PEM private key of the client certificate. A relative path starts at the config file\'s folder (Homebridge: its storage folder).' }),
    clientId: z.string().optional().meta({ title: 'Client id', description: 'MQTT client id; defaults to presence-bridge_ and a stable suffix. The state topics go out on a second connection with this id and -state.' }),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)])
      .default(5)
      .meta({ title: 'Protocol version', description: '5 for MQTT 5, 4 for MQTT 3.1.1.' }),
    baseTopic: z.string().min(1).default('presence-bridge').meta({ title: 'Base topic', description: 'Prefix of the bridge\'s own topics (status, per-user set/prefer/state/presence/error).' }),
    commandTopics: z
      .boolean()
      .default(true)
      .meta({ title: 'Command topics', description: 'Act on <base>/<user>/set (and prefer, if allowed below). Anyone who may publish there drives presence: restrict it with broker ACLs, or turn this off.' }),
    preferTopic: z
      .boolean()
      .default(false)
      .meta({ title: 'Prefer topic', description: 'Also act on <base>/<user>/prefer, which sets the user-preferred presence: it overrides every session, Teams\' own included, for up to a week. Off unless you need it.' }),
    homeAssistant: z.boolean().default(true).meta({ title: 'Home Assistant discovery', description: 'Publish Home Assistant MQTT discovery for each user.' }),
    discoveryPrefix: z.string().min(1).default('homeassistant').meta({ title: 'Discovery prefix', description: 'Home Assistant discovery prefix.' }),
  })
  .strict();


export type MqttConfig = z.output<typeof mqttSchema>;
export type MqttInputConfig = z.output<typeof mqttInputSchema>;

declare module '../config/schema.js' {
  interface FeatureSections {
    mqtt?: MqttConfig;
  }
  interface FeatureInputTypes {
    mqtt: MqttInputConfig;
  }
}
