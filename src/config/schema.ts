import { httpSectionSchema } from '../httpServer/schema.js';
import { z } from 'zod';
import { fleetSchema, userGroupSchema } from '../fleet/schema.js';
import { metricsSectionSchema } from '../metrics/schema.js';
import { TEAMS_STATUSES } from '../presence/teamsStatus.js';

/**
 * The single source of truth for the config block (DESIGN.md, "Config contract"). Types are
 * inferred from it; `config.schema.json` (the Homebridge UI form) is generated from it; the
 * README's option table uses the same descriptions. Cross-field checks live in validate.ts.
 * `secret: true` in a field's meta makes it a password field in the form and keeps it out of
 * every summary and message.
 */

const presenceText = z
  .string()
  .meta({ description: 'A presence written Availability/Activity (e.g. Busy/InACall), or clear, or toggle.' });

const isoDuration = z.string().meta({ description: 'An ISO 8601 duration, e.g. PT30M.' });

export const mapEntrySchema = z.union([
  presenceText,
  z
    .object({
      set: z.string().meta({ title: 'Presence', description: 'The presence to assert, Availability/Activity.' }),
      for: isoDuration.meta({ title: 'For', description: 'How long the presence lasts before it ends by itself (ISO 8601, e.g. PT30M; at most P1D).' }),
    })
    .strict(),
]);

const mapSchema = z
  .record(z.string(), mapEntrySchema)
  .meta({
    title: 'Value map',
    description:
      'What each input value does: a presence (Busy/InACall), clear, toggle, or {"set": presence, "for": duration}. Values match case-insensitively after trimming.',
  });

/**
 * The form-friendly twin of `map`: one row per value, so the Homebridge UI can edit it (a form
 * cannot edit a map whose keys the user chooses). Both may be given; validation merges them.
 */
export const valueEntrySchema = z
  .object({
    value: z
      .string()
      .min(1)
      .meta({ title: 'Value', description: 'What the device sends, e.g. ON, single or OFFHOOK; matched case-insensitively after trimming.' }),
    presence: z
      .string()
      .min(1)
      .meta({ title: 'Does', description: 'The presence to assert (Availability/Activity), clear (this input asks for nothing) or toggle (next presence of the toggle cycle).' }),
    for: isoDuration
      .optional()
      .meta({ title: 'For how long', description: 'Optional: the presence ends by itself after this ISO 8601 duration, e.g. PT30M; empty holds it until the next value.' }),
  })
  .strict();

const valuesSchema = z
  .array(valueEntrySchema)
  .meta({ title: 'Values', description: 'What each value the device sends does. The form edits this list; a hand-written map works too.' });

const toggleSchema = z
  .array(z.string())
  .meta({ title: 'Toggle cycle', description: 'Presences a toggle value cycles through, in order, before it clears again.' });

const inputCommon = {
  name: z.string().min(1).meta({ title: 'Name', description: 'A unique name for this input, shown in logs and state.' }),
  user: z
    .string()
    .optional()
    .meta({ title: 'User', description: 'Key of the user this input drives. May be left out when exactly one user is configured.' }),
  field: z
    .string()
    .optional()
    .meta({ title: 'JSON field', description: 'Dotted path of the value inside a JSON payload (e.g. action or state.hook). Leave empty for plain text values.' }),
  values: valuesSchema.optional(),
  map: mapSchema.default({}),
  toggle: toggleSchema.optional(),
};

export const mqttInputSchema = z
  .object({
    type: z.literal('mqtt').meta({ title: 'Type', description: 'mqtt: values arrive as messages on a topic; serial: values arrive as lines on a serial port.' }),
    name: inputCommon.name,
    user: inputCommon.user,
    topic: z.string().min(1).meta({ title: 'Topic', description: 'MQTT topic to subscribe to; + and # wildcards are allowed.' }),
    field: inputCommon.field,
    values: inputCommon.values,
    map: inputCommon.map,
    toggle: inputCommon.toggle,
  })
  .strict();

export const serialInputSchema = z
  .object({
    type: z.literal('serial').meta({ title: 'Type', description: 'mqtt: values arrive as messages on a topic; serial: values arrive as lines on a serial port.' }),
    name: inputCommon.name,
    user: inputCommon.user,
    path: z.string().min(1).meta({ title: 'Port', description: 'Serial device path; prefer a stable /dev/serial/by-id/… path.' }),
    baudRate: z.number().int().positive().default(9600).meta({ title: 'Baud rate', description: 'Serial speed in bits per second.' }),
    delimiter: z.string().min(1).default('\n').meta({ title: 'Line delimiter', description: 'What ends a line; a trailing \\r is tolerated with the default newline.' }),
    encoding: z
      .enum(['utf8', 'ascii', 'latin1'])
      .default('utf8')
      .meta({ title: 'Encoding', description: 'Text encoding of the lines the device sends.' }),
    onDisconnect: z
      .enum(['clear', 'keep'])
      .default('clear')
      .meta({ title: 'When the device disconnects', description: 'clear: drop this input\'s presence when the device vanishes (a dead sensor must not hold anyone busy); keep: hold it.' }),
    queryOnOpen: z
      .string()
      .min(1)
      .optional()
      .meta({
        title: 'Ask for the state on open',
        description:
          'Text written to the device each time its port opens (at start and after a replug), for devices that answer with their current state, e.g. "STATE?\\n". Include the line ending. Leave empty for devices that cannot be asked.',
      }),
    field: inputCommon.field,
    values: inputCommon.values,
    map: inputCommon.map,
    toggle: inputCommon.toggle,
  })
  .strict();

export const inputSchema = z.discriminatedUnion('type', [mqttInputSchema, serialInputSchema]);

const templateLine = (availability: string): z.ZodOptional<z.ZodString> =>
  z.string().optional().meta({ title: `Line for ${availability}`, description: `Written when the presence turns ${availability}; end it with \\n (a backslash and n), e.g. RED\\n.` });

/** One fixed field per availability, so the form can edit the lines (keys match case-insensitively). */
const templateLines = {
  Available: templateLine('Available'),
  AvailableIdle: templateLine('AvailableIdle'),
  Busy: templateLine('Busy'),
  BusyIdle: templateLine('BusyIdle'),
  DoNotDisturb: templateLine('DoNotDisturb'),
  BeRightBack: templateLine('BeRightBack'),
  Away: templateLine('Away'),
  Offline: templateLine('Offline'),
  PresenceUnknown: templateLine('PresenceUnknown'),
  default: z.string().optional().meta({ title: 'Line for any other', description: 'Written for an availability without a line of its own (default).' }),
};

export const serialOutputSchema = z
  .object({
    type: z.literal('serial').meta({ title: 'Type', description: 'serial: a busy light on a serial port, written one line per change.' }),
    name: z.string().min(1).meta({ title: 'Name', description: 'A unique name for this output.' }),
    user: z.string().optional().meta({ title: 'User', description: 'Key of the user whose presence this light shows. May be left out when exactly one user is configured.' }),
    path: z.string().min(1).meta({ title: 'Port', description: 'Serial device path of the busy light.' }),
    baudRate: z.number().int().positive().default(9600).meta({ title: 'Baud rate', description: 'Serial speed in bits per second.' }),
    templates: z
      .object(templateLines)
      .catchall(z.string())
      .meta({
        title: 'Line per availability',
        description:
          'Text written on every change, one line per availability; "default" (Any other) covers those left empty, and AvailableIdle/BusyIdle fall back to Available/Busy. Include the line ending: RED\\n (a backslash and n, as typed in the form).',
      }),
  })
  .strict();

export const outputSchema = z.discriminatedUnion('type', [serialOutputSchema]);

export const userSchema = z
  .object({
    key: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, _ and - only (it becomes part of MQTT topics)')
      .meta({ title: 'Key', description: 'Short name for the user, used in inputs and MQTT topics (letters, digits, _ and -).' }),
    id: z.string().min(1).meta({ title: 'User id', description: 'The user\'s Entra object id (GUID) or user principal name; a user principal name is resolved once to the object id, which needs User.ReadBasic.All (application mode).' }),
    name: z.string().optional().meta({ title: 'Display name', description: 'Name shown in HomeKit and Home Assistant; defaults to the key.' }),
  })
  .strict();

export const authSchema = z
  .object({
    mode: z
      .enum(['application', 'delegated'])
      .default('application')
      .meta({
        title: 'Sign-in mode',
        description:
          'application: client credentials, Presence.ReadWrite.All with admin consent, any user; delegated: one user signs in once with a device code, Presence.ReadWrite.',
      }),
    tenantId: z.string().min(1).meta({ title: 'Tenant id', description: 'Directory (tenant) id of your Entra ID tenant.' }),
    clientId: z.string().min(1).meta({ title: 'Client id', description: 'Application (client) id of the app registration; also Graph\'s presence sessionId.' }),
    clientSecret: z.string().min(1).optional().meta({ title: 'Client secret', description: 'Client secret value (application mode). Never logged.', secret: true }),
    certificate: z
      .object({
        privateKeyFile: z.string().min(1).meta({ title: 'Private key file', description: 'PEM file with the certificate\'s private key. A relative path starts at the config file\'s folder (Homebridge: its storage folder).' }),
        thumbprint: z.string().min(1).meta({ title: 'Thumbprint', description: 'SHA-1 thumbprint of the certificate, hex, as Entra shows it.' }),
        certificateFile: z.string().min(1).optional().meta({ title: 'Certificate file', description: 'PEM certificate chain, sent as x5c (optional). A relative path starts at the config file\'s folder (Homebridge: its storage folder).' }),
      })
      .strict()
      .optional()
      .meta({ title: 'Certificate', description: 'Certificate credential instead of a secret (application mode).' }),
    authorityHost: z
      .string()
      .optional()
      .meta({ title: 'Sign-in host', description: 'Overrides the cloud\'s sign-in host, e.g. https://127.0.0.1:8443 for the emulator.' }),
  })
  .strict();

export const graphSchema = z
  .object({
    baseUrl: z.string().optional().meta({ title: 'Graph base URL', description: 'Overrides the cloud\'s Graph host, e.g. https://127.0.0.1:8443 for the emulator.' }),
    expiration: isoDuration
      .default('PT1H')
      .meta({
        title: 'Session expiration',
        description:
          'expirationDuration sent with setPresence (PT5M to PT4H). Longer means fewer renewals; shorter means a stale state outlives a crash for less time.',
      }),
    maxRequestsPer30s: z
      .number()
      .int()
      .positive()
      .default(1000)
      .meta({ title: 'Rate limit (requests per 30 s)', description: 'Upper bound of Graph presence requests in any 30 s, shared by all users.' }),
    pollSeconds: z
      .number()
      .int()
      .min(0)
      .default(60)
      .meta({ title: 'Read-back interval (s)', description: 'How often to read users\' actual presence from Graph; 0 turns read-back off.' }),
    timeoutSeconds: z.number().positive().default(30).meta({ title: 'Request timeout (s)', description: 'Timeout for connecting to and hearing back from Graph and sign-in.' }),
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

export const homekitSchema = z
  .object({
    switches: z
      .array(z.string())
      .default(['Busy/InACall', 'DoNotDisturb/Presenting'])
      .meta({ title: 'Switches', description: 'One HomeKit switch per presence for each user; mutually exclusive; on asserts, off clears.' }),
    sensor: z.boolean().default(true).meta({ title: 'Busy sensor', description: 'An occupancy sensor per user, occupied while the actual presence is Busy or DoNotDisturb.' }),
    statusSensors: z
      .array(z.enum(TEAMS_STATUSES))
      .default([])
      .meta({ title: 'Status sensors', description: 'An occupancy sensor per user for each Teams status listed, occupied while the actual presence shows it (mapping in docs/homekit.md).' }),
  })
  .strict();

export const configSchema = z
  .object({
    platform: z.literal('PresenceBridge').default('PresenceBridge').meta({ title: 'Platform', description: 'Always PresenceBridge.' }),
    name: z.string().min(1).default('Presence Bridge').meta({ title: 'Name', description: 'Name of this bridge in logs and HomeKit.' }),
    cloud: z
      .enum(['global', 'usgov', 'dod', 'china'])
      .default('global')
      .meta({ title: 'Cloud', description: 'Microsoft cloud: global, usgov (GCC High, L4), dod (L5) or china (21Vianet; refused: Graph presence does not exist there).' }),
    auth: authSchema.meta({ title: 'Sign-in', description: 'How the bridge signs in to Microsoft Entra ID.' }),
    graph: graphSchema.prefault({}).meta({ title: 'Graph', description: 'Microsoft Graph presence settings.' }),
    tls: z
      .object({
        caFile: z.string().optional().meta({ title: 'Extra CA file', description: 'PEM file of extra CA certificates to trust (a TLS-inspecting proxy, the emulator). A relative path starts at the config file\'s folder (Homebridge: its storage folder).' }),
      })
      .strict()
      .prefault({})
      .meta({ title: 'TLS', description: 'TLS settings for Graph and sign-in.' }),
    proxy: z.string().optional().meta({ title: 'Proxy URL', description: 'HTTP(S) proxy for Graph and sign-in; HTTPS_PROXY and NO_PROXY are honoured when unset.' }),
    users: z.array(userSchema).default([]).meta({ title: 'Users', description: 'The people whose Teams presence this bridge sets (may be empty when userGroups names a group).' }),
    userGroups: z.array(userGroupSchema).default([]).meta({ title: 'User groups', description: 'Entra groups whose members are users too, read with paging and refreshed (docs/fleet.md).' }),
    fleet: fleetSchema.optional().meta({ title: 'Fleet', description: 'Sharding users over several instances (docs/fleet.md).' }),
    mqtt: mqttSchema.optional().meta({ title: 'MQTT', description: 'Broker connection for MQTT inputs, the command topic, state topics and Home Assistant discovery.' }),
    http: httpSectionSchema.optional().meta({ title: 'Local HTTP server', description: 'One local HTTP server for the status page, health probes (/healthz, /readyz) and the API. Off unless set.' }),
    metrics: metricsSectionSchema.optional().meta({ title: 'Prometheus metrics', description: 'Prometheus metrics at GET /metrics on the local HTTP server (docs/kubernetes.md).' }),
    inputs: z.array(inputSchema).default([]).meta({ title: 'Inputs', description: 'Devices whose signals set presence.' }),
    outputs: z.array(outputSchema).default([]).meta({ title: 'Outputs', description: 'Devices that show presence, such as a serial busy light.' }),
    homekit: homekitSchema.prefault({}).meta({ title: 'HomeKit', description: 'Accessories the Homebridge plugin exposes per user.' }),
    onShutdown: z
      .enum(['clear', 'keep'])
      .default('clear')
      .meta({ title: 'On shutdown', description: 'clear: end every asserted session when the bridge stops; keep: let sessions run until they expire.' }),
    _bridge: z
      .looseObject({})
      .optional()
      .meta({ title: 'Child bridge', description: 'Written by Homebridge when the plugin runs as a child bridge; not used by the bridge itself.' }),
  })
  .strict();

export type PresenceBridgeConfig = z.output<typeof configSchema>;
export type InputConfig = z.output<typeof inputSchema>;
export type MqttInputConfig = z.output<typeof mqttInputSchema>;
export type SerialInputConfig = z.output<typeof serialInputSchema>;
export type OutputConfig = z.output<typeof outputSchema>;
export type SerialOutputConfig = z.output<typeof serialOutputSchema>;
export type UserConfig = z.output<typeof userSchema>;
export type MqttConfig = z.output<typeof mqttSchema>;
export type MapEntry = z.output<typeof mapEntrySchema>;
export type ValueEntry = z.output<typeof valueEntrySchema>;
