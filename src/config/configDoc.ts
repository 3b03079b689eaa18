import type { AssembledConfig } from './assemble.js';
import { configFields, PAIR_TEXTS, type OptionField } from './fields.js';

/** docs/configuration.md: the option table and the rules beyond it, from the assembled schema and the features. */

const CORE_RULES =
  'Other rules checked together with the table below: user keys and input/output names are unique; ' +
  '`user` may be left out only when exactly one user is configured; a user `id` is an Entra object id ' +
  '(GUID) or a user principal name (`name@domain`) and never contains `/`, `?`, `#`, `%`, spaces or `..`; ' +
  '`graph.expiration` lies between PT5M and PT4H; application mode takes `clientSecret` or ' +
  '`certificate` (not both); `auth.authorityHost` and `graph.baseUrl` are `https://` URLs.';

function rulesText(assembled: AssembledConfig): string {
  return [CORE_RULES, ...assembled.features.flatMap((f) => (f.docRules ? [f.docRules] : []))].join(' ');
}

/** Markdown lines of at most `width` characters (a word longer than that stands alone). */
function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function cellRaw(text: string): string {
  return text.replace(/\n/g, ' ');
}

function defaultText(field: OptionField, parent: OptionField | undefined): string {
  if (field.hasDefault) {
    const value = field.defaultValue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return '';
    return `\`${cell(JSON.stringify(value))}\``;
  }
  if (field.required) return '**required**';
  if (field.requiredInParent) {
    if (field.only) return `**required** for ${field.only.values.join(', ')}`;
    if (parent) return `**required** in \`${parent.path}\``;
  }
  return '';
}

function docRows(fields: readonly OptionField[], parent?: OptionField): { field: OptionField; parent: OptionField | undefined }[] {
  return fields.flatMap((field) => [{ field, parent }, ...docRows(field.children, field)]);
}

export function renderConfigurationDoc(assembled: AssembledConfig): string {
  const rows = docRows(configFields(assembled.schema, { includeHomebridgeOwned: true }));
  return [...INTRODUCTION, ...presences(assembled), ...example(), ...optionTable(rows)].join('\n');
}

const INTRODUCTION = [
  '<!-- Generated from src/config/schema.ts and the features in src/features.ts by scripts/generate-config-schema.ts; do not edit by hand. -->',
  '# Configuration',
  '',
  'One JSON block configures the bridge, the same in Homebridge (`platforms` in `config.json`) and',
  'for the standalone `presence-bridge` daemon, which reads a file holding the block or a whole',
  'Homebridge `config.json` (it picks the block with `"platform": "PresenceBridge"`).',
  '',
  'Check a file before using it:',
  '',
  '```sh',
  'presence-bridge check-config config.json         # summary, exit 0; or every mistake, exit 2',
  'presence-bridge check-config config.json --json  # the same as JSON',
  '```',
  '',
  'Every mistake is reported at once as `path: message`, e.g.',
  '`inputs[1].map.OFFHOOK: "Busy/Lunch" is not a presence setPresence accepts; use one of …`.',
  'Unknown options are errors too, so a misspelt option never passes silently. An optional option',
  'left empty (`""` or `{}`, as a form saves a cleared field) counts as not set.',
  '',
];

function presences(assembled: AssembledConfig): string[] {
  return [
    '## Presences',
    '',
    `A presence is written \`Availability/Activity\`; setPresence accepts exactly ${PAIR_TEXTS.map((p) => `\`${p}\``).join(', ')}`,
    '(case and spaces around the slash do not matter). An input\'s value map may also say `clear`',
    '(this input asks for nothing), `toggle` (cycle through the input\'s `toggle` list, then clear; the',
    'list is then required) or `{"set": "Busy/InACall", "for": "PT30M"}` (a presence that ends by',
    'itself after an ISO 8601 duration). Input values match case-insensitively after trimming.',
    '',
    ...wrap(rulesText(assembled)),
    '',
  ];
}

function example(): string[] {
  return [
    '## Example',
    '',
    '```json',
    JSON.stringify(EXAMPLE, null, 2),
    '```',
    '',
  ];
}

function optionTable(rows: readonly { field: OptionField; parent: OptionField | undefined }[]): string[] {
  return [
    '## Options',
    '',
    'Paths use `[]` for "each entry of the list". Options marked *mqtt only*, *serial only* and so on apply',
    'to inputs or outputs of that `type`.',
    '',
    '| Option | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map(({ field: f, parent }) => {
      const only = f.only ? `*${f.only.values.join(', ')} only.* ` : '';
      const secret = f.secret ? ' Shown as a password field.' : '';
      return `| \`${f.path}\` | ${cellRaw(f.typeText)} | ${defaultText(f, parent)} | ${cell(`${only}${f.title}: ${f.description}${secret}`)} |`;
    }),
    '',
  ];
}

const EXAMPLE = {
  platform: 'PresenceBridge',
  name: 'Presence Bridge',
  cloud: 'global',
  auth: { mode: 'application', tenantId: 'your-tenant-id', clientId: 'your-client-id', clientSecret: 'your-client-secret' },
  graph: { expiration: 'PT1H' },
  users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }],
  mqtt: { url: 'mqtt://127.0.0.1:1883', baseTopic: 'presence-bridge' },
  inputs: [
    {
      name: 'Desk button',
      type: 'mqtt',
      topic: 'zigbee2mqtt/desk_button',
      field: 'action',
      user: 'alex',
      map: { single: 'toggle', hold: { set: 'DoNotDisturb/Presenting', for: 'PT30M' } },
      toggle: ['Busy/InACall'],
    },
    { name: 'Headset', type: 'serial', path: '/dev/serial/by-id/usb-hook', baudRate: 9600, user: 'alex', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
  ],
};

/** The example above, for a test that proves it validates. */
export const DOC_EXAMPLE: unknown = EXAMPLE;
