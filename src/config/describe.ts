import type { MapEntry, PresenceBridgeConfig } from './schema.js';
import { describeTarget } from '../httpOutput/request.js';
import { CLOUDS, resolveEndpoints } from '../graph/clouds.js';
import { parseIsoDuration } from '../presence/duration.js';
import { maskUrl } from '../maskUrl.js';

/**
 * What a valid config makes the bridge do, as data (for `check-config --json`, the demo and the
 * status page) and as a one-screen text. Pure. Never carries a secret: the client secret and
 * the MQTT password appear only as "set".
 */

export interface ValueSummary {
  /** The map key as configured, e.g. `OFFHOOK`. */
  readonly value: string;
  /** What it does, e.g. `Busy/InACall`, `clear`, `toggle (Busy/InACall -> clear)`, `DoNotDisturb/Presenting for 30 min`. */
  readonly does: string;
}

export interface InputSummary {
  readonly name: string;
  readonly type: 'mqtt' | 'serial';
  /** `topic zigbee2mqtt/desk` or `port /dev/ttyUSB0 at 9600 baud`. */
  readonly source: string;
  readonly topic?: string;
  readonly path?: string;
  readonly field?: string;
  readonly user: string;
  readonly values: readonly ValueSummary[];
}

export interface OutputSummary {
  readonly name: string;
  readonly type: 'serial' | 'http';
  readonly source: string;
  /** Serial port path (serial outputs only). */
  readonly path?: string;
  readonly user: string;
  readonly lines: readonly { readonly availability: string; readonly line: string }[];
}

export interface ConfigSummary {
  readonly name: string;
  readonly cloud: string;
  readonly graphBaseUrl: string;
  readonly authority: string;
  readonly auth: {
    readonly mode: 'application' | 'delegated';
    readonly tenantId: string;
    readonly clientId: string;
    /** `client secret (set)`, `certificate (thumbprint AB12…)` or `device code sign-in`. */
    readonly credential: string;
  };
  readonly graph: { readonly expiration: string; readonly pollSeconds: number; readonly maxRequestsPer30s: number };
  readonly users: readonly { readonly key: string; readonly id: string; readonly name?: string }[];
  readonly mqtt?: {
    readonly url: string;
    readonly username?: string;
    readonly password: boolean;
    readonly baseTopic: string;
    readonly homeAssistant: boolean;
    /** Command topics the bridge acts on: `set`, `set and prefer`, or `off`. */
    readonly commandTopics: 'set' | 'set and prefer' | 'off';
  };
  readonly inputs: readonly InputSummary[];
  readonly outputs: readonly OutputSummary[];
  readonly homekit: { readonly switches: readonly string[]; readonly sensor: boolean };
  readonly onShutdown: 'clear' | 'keep';
}

/** `PT1H30M` → `1 h 30 min`; `PT45S` → `45 s`. */
export function humanDuration(iso: string): string {
  const ms = parseIsoDuration(iso);
  if (ms === undefined) return iso;
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  seconds -= days * 86_400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  if (seconds || parts.length === 0) parts.push(`${seconds} s`);
  return parts.join(' ');
}

export function describeMapEntry(entry: MapEntry, toggle: readonly string[] | undefined): string {
  if (typeof entry !== 'string') return `${entry.set} for ${humanDuration(entry.for)}`;
  if (entry === 'toggle') return `toggle (${[...(toggle ?? []), 'clear'].join(' -> ')})`;
  return entry;
}

/** A URL with any user name or password taken out. */
export function withoutCredentials(text: string): string {
  return maskUrl(text, { dropUserInfo: true });
}

export function describeConfig(config: PresenceBridgeConfig): ConfigSummary {
  let graphBaseUrl: string;
  let authority: string;
  try {
    const endpoints = resolveEndpoints(config);
    graphBaseUrl = endpoints.graphBaseUrl;
    authority = endpoints.authority;
  } catch {
    graphBaseUrl = config.graph.baseUrl ?? CLOUDS[config.cloud].graphOrigin;
    authority = config.auth.authorityHost ?? CLOUDS[config.cloud].authorityOrigin;
  }
  const { auth } = config;
  const credential =
    auth.mode === 'delegated'
      ? 'device code sign-in (Presence.ReadWrite)'
      : auth.certificate
        ? `certificate (thumbprint ${auth.certificate.thumbprint})`
        : auth.clientSecret !== undefined
          ? 'client secret (set)'
          : 'none';
  const only = config.users.length === 1 ? config.users[0]?.key : undefined;
  return {
    name: config.name,
    cloud: config.cloud,
    graphBaseUrl,
    authority,
    auth: { mode: auth.mode, tenantId: auth.tenantId, clientId: auth.clientId, credential },
    graph: { expiration: config.graph.expiration, pollSeconds: config.graph.pollSeconds, maxRequestsPer30s: config.graph.maxRequestsPer30s },
    users: config.users.map((u) => (u.name === undefined ? { key: u.key, id: u.id } : { key: u.key, id: u.id, name: u.name })),
    ...(config.mqtt
      ? {
          mqtt: {
            url: withoutCredentials(config.mqtt.url),
            ...(config.mqtt.username === undefined ? {} : { username: config.mqtt.username }),
            password: config.mqtt.password !== undefined,
            baseTopic: config.mqtt.baseTopic,
            homeAssistant: config.mqtt.homeAssistant,
            commandTopics: !config.mqtt.commandTopics ? 'off' : config.mqtt.preferTopic ? 'set and prefer' : 'set',
          },
        }
      : {}),
    inputs: config.inputs.map((input) => {
      const values = Object.entries(input.map).map(([value, entry]) => ({ value, does: describeMapEntry(entry, input.toggle) }));
      const user = input.user ?? only ?? '?';
      const field = input.field === undefined ? {} : { field: input.field };
      if (input.type === 'mqtt') return { name: input.name, type: input.type, source: `topic ${input.topic}`, topic: input.topic, ...field, user, values };
      return { name: input.name, type: input.type, source: `port ${input.path} at ${input.baudRate} baud`, path: input.path, ...field, user, values };
    }),
    outputs: config.outputs.map((output) =>
      output.type === 'http'
        ? {
            name: output.name,
            type: output.type,
            source: `${describeTarget(output.method, output.url)}, follows ${output.follow}`,
            user: output.user ?? only ?? '?',
            lines: Object.entries(output.body).flatMap(([availability, line]) => (line === undefined ? [] : [{ availability, line }])),
          }
        : {
            name: output.name,
            type: output.type,
            source: `port ${output.path} at ${output.baudRate} baud`,
            path: output.path,
            user: output.user ?? only ?? '?',
            lines: Object.entries(output.templates).map(([availability, line]) => ({ availability, line })),
          },
    ),
    homekit: { switches: config.homekit.switches, sensor: config.homekit.sensor },
    onShutdown: config.onShutdown,
  };
}

function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) => `${indent}${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}

/** The summary as lines of text for a terminal. */
export function formatSummary(s: ConfigSummary): string[] {
  const lines: string[] = [];
  lines.push(`${s.name}: cloud ${s.cloud}`);
  lines.push(
    ...table(
      [
        ['Graph', s.graphBaseUrl],
        ['Sign-in', s.authority],
        ['Auth', `${s.auth.mode}, ${s.auth.credential}; client ${s.auth.clientId}`],
        ['Sessions', `expire after ${humanDuration(s.graph.expiration)} unless renewed; read-back ${s.graph.pollSeconds > 0 ? `every ${s.graph.pollSeconds} s` : 'off'}; at most ${s.graph.maxRequestsPer30s} requests per 30 s`],
      ],
      '  ',
    ),
  );
  lines.push('', `Users (${s.users.length})`);
  lines.push(...table(s.users.map((u) => [u.key, u.id, u.name ?? '']), '  '));
  if (s.mqtt) {
    const who = s.mqtt.username === undefined ? '' : `, user ${s.mqtt.username}${s.mqtt.password ? ' (password set)' : ''}`;
    lines.push('', `MQTT ${s.mqtt.url}${who}; base topic ${s.mqtt.baseTopic}; command topics ${s.mqtt.commandTopics}; Home Assistant discovery ${s.mqtt.homeAssistant ? 'on' : 'off'}`);
  }
  lines.push('', `Inputs (${s.inputs.length})`);
  if (s.inputs.length === 0) lines.push('  none (presence is set through MQTT commands, HomeKit or the CLI)');
  for (const input of s.inputs) {
    lines.push(`  ${input.name} (${input.type}, ${input.source}${input.field === undefined ? '' : `, field ${input.field}`}) for ${input.user}`);
    lines.push(...table(input.values.map((v) => [v.value, `-> ${v.does}`]), '    '));
  }
  if (s.outputs.length > 0) {
    lines.push('', `Outputs (${s.outputs.length})`);
    for (const output of s.outputs) {
      lines.push(`  ${output.name} (${output.type}, ${output.source}) shows ${output.user}`);
      lines.push(...table(output.lines.map((l) => [l.availability, `-> ${JSON.stringify(l.line)}`]), '    '));
    }
  }
  lines.push('', `HomeKit: switches ${s.homekit.switches.length > 0 ? s.homekit.switches.join(', ') : 'none'}; busy sensor ${s.homekit.sensor ? 'on' : 'off'}`);
  lines.push(`On shutdown: ${s.onShutdown === 'clear' ? 'clear every asserted presence' : 'keep sessions until they expire'}`);
  return lines;
}
