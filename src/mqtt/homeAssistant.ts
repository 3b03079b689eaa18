import type { UserConfig } from '../config/schema.js';
import type { MqttConfig } from './configSchema.js';
import { SESSION_PAIRS, formatPresence } from '../presence/presencePair.js';
import { STATUS_OFFLINE, STATUS_ONLINE, statusTopic, type ShardOfFleet } from './mqttConnection.js';
import { userTopics } from './stateTopics.js';

/**
 * Home Assistant MQTT discovery, one device per user with three entities: a select that sets
 * presence through the command topic, a sensor of the actual presence and a problem binary
 * sensor for health. https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
 */
export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: string;
}

/** Discovery ids allow only [a-zA-Z0-9_-]. */
export function discoveryId(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

export const SELECT_OPTIONS: readonly string[] = [...SESSION_PAIRS.map(formatPresence), 'clear'];

/**
 * `shard`: the fleet shard that serves `users` (issue 19); their entities are available while
 * that shard's own status topic says online, whatever its siblings do.
 */
export function discoveryMessages(mqtt: MqttConfig, users: readonly UserConfig[], version: string, shard?: ShardOfFleet): DiscoveryMessage[] {
  const node = discoveryId(mqtt.baseTopic);
  const availability = { availability_topic: statusTopic(mqtt, shard), payload_available: STATUS_ONLINE, payload_not_available: STATUS_OFFLINE };
  const messages: DiscoveryMessage[] = [];
  for (const user of users) {
    const topics = userTopics(mqtt.baseTopic, user.key);
    const base = `presence_bridge_${node}_${user.key}`;
    const device = {
      identifiers: [base],
      name: `${user.name ?? user.key} Teams presence`,
      manufacturer: 'homebridge-presence-bridge',
      model: 'Teams presence bridge',
      sw_version: version,
    };
    const entity = (component: string, objectId: string, config: Record<string, unknown>): void => {
      messages.push({
        topic: `${mqtt.discoveryPrefix}/${component}/${node}/${user.key}_${objectId}/config`,
        payload: JSON.stringify({ ...config, unique_id: `${base}_${objectId}`, ...availability, device }),
      });
    };
    if (mqtt.commandTopics) entity('select', 'presence_set', {
      name: 'Set presence',
      icon: 'mdi:account-clock',
      command_topic: topics.set,
      state_topic: topics.state,
      value_template: '{{ value_json.desired }}',
      options: SELECT_OPTIONS,
      qos: 1,
    });
    entity('sensor', 'presence', {
      name: 'Presence',
      icon: 'mdi:account-circle',
      state_topic: topics.presence,
      value_template: '{{ value_json.availability }}',
      json_attributes_topic: topics.presence,
    });
    entity('binary_sensor', 'problem', {
      name: 'Presence problem',
      device_class: 'problem',
      state_topic: topics.state,
      value_template: "{{ 'ON' if value_json.problem else 'OFF' }}",
      payload_on: 'ON',
      payload_off: 'OFF',
      json_attributes_topic: topics.state,
      json_attributes_template: '{{ {"health": value_json.health, "last_error": value_json.lastError} | tojson }}',
    });
  }
  return messages;
}
