import { z } from 'zod';
import { TEAMS_STATUSES } from '../presence/teamsStatus.js';

/**
 * The core of the config block (DESIGN.md, "Config contract"): sign-in, Graph, users, the fields
 * every input shares, HomeKit. Features (src/features.ts) add their sections and input/output
 * variants; src/config/assemble.ts joins them into the one schema that validates, generates
 * `config.schema.json` (the Homebridge UI form) and the option table. Cross-field checks live in
 * coreChecks.ts and beside each feature. `secret: true` in a field's meta makes it a password
 * field in the form and keeps it out of every summary and message.
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

/** The fields every input variant shares (the core reads inputs through them); a feature's variant spreads them in. */
export const inputFields = {
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

/** Top-level options before the features' sections, in the order the form and the doc show them. */
export const configHead = {
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
};

/** `users` is built from {@link userSchema} plus the features' user fields. */
export const USERS_META = { title: 'Users', description: 'The people whose Teams presence this bridge sets.' };
export const INPUTS_META = { title: 'Inputs', description: 'Devices whose signals set presence.' };
export const OUTPUTS_META = { title: 'Outputs', description: 'Devices that show presence, such as a serial busy light.' };

/** Top-level options after inputs and outputs. */
export const configTail = {
  homekit: homekitSchema.prefault({}).meta({ title: 'HomeKit', description: 'Accessories the Homebridge plugin exposes per user.' }),
  onShutdown: z
    .enum(['clear', 'keep'])
    .default('clear')
    .meta({ title: 'On shutdown', description: 'clear: end every asserted session when the bridge stops; keep: let sessions run until they expire.' }),
  _bridge: z
    .looseObject({})
    .optional()
    .meta({ title: 'Child bridge', description: 'Written by Homebridge when the plugin runs as a child bridge; not used by the bridge itself.' }),
};

/** What the core reads of any input, whatever its type. */
export const inputBaseSchema = z.object({ type: z.string(), ...inputFields });
/** What the core reads of any output, whatever its type. */
export const outputBaseSchema = z.object({ type: z.string(), name: z.string(), user: z.string().optional() });

/** The core options alone, for the static type; the runtime schema is assembled (assemble.ts). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is used
const coreConfigSchema = z.object({
  ...configHead,
  users: z.array(userSchema),
  inputs: z.array(inputBaseSchema),
  outputs: z.array(outputBaseSchema),
  ...configTail,
});

// Features declare their slices' types by augmenting these interfaces from their own folder
// (`declare module '../config/schema.js'`), so the core's config type knows them without
// importing upward. The runtime schema comes from the same features' zod schemas.
/* eslint-disable @typescript-eslint/no-empty-object-type -- filled in by declaration merging */
/** Top-level sections, e.g. `{ mqtt?: MqttConfig }`. */
export interface FeatureSections {}
/** Input variants by `type`, e.g. `{ mqtt: MqttInputConfig }`. */
export interface FeatureInputTypes {}
/** Output variants by `type`. */
export interface FeatureOutputTypes {}
/** Fields features add to every user entry (`userFields`). */
export interface FeatureUserFields {}
/** Fields features add to every input (`inputFields`). */
export interface FeatureInputFields {}
/* eslint-enable @typescript-eslint/no-empty-object-type */

type Variant<Map, Base> = [keyof Map] extends [never] ? Base : Map[keyof Map];

export type InputBase = z.output<typeof inputBaseSchema>;
export type OutputBase = z.output<typeof outputBaseSchema>;
export type InputConfig = Variant<FeatureInputTypes, InputBase> & FeatureInputFields;
export type OutputConfig = Variant<FeatureOutputTypes, OutputBase>;
export type UserConfig = z.output<typeof userSchema> & FeatureUserFields;
type CoreConfig = z.output<typeof coreConfigSchema>;
export type PresenceBridgeConfig = Omit<CoreConfig, 'users' | 'inputs' | 'outputs'> & {
  users: UserConfig[];
  inputs: InputConfig[];
  outputs: OutputConfig[];
} & FeatureSections;
export type HomekitConfig = z.output<typeof homekitSchema>;
export type MapEntry = z.output<typeof mapEntrySchema>;
export type ValueEntry = z.output<typeof valueEntrySchema>;
