import type { FormSection } from './contribution.js';
import type { AssembledConfig } from './assemble.js';
import { configFields, objectJson, type Json, type OptionField } from './fields.js';

/**
 * The Homebridge UI form (`config.schema.json`): the schema's options (fields.ts) laid out in
 * sections, the core's and each feature's. `scripts/generate-config-schema.ts` writes the file;
 * a test regenerates it in memory and compares.
 */

/** The core's form sections before the features' ones. */
const LEADING_GROUPS: readonly FormSection[] = [
  { title: 'Sign-in', description: 'The Entra ID app registration the bridge signs in with.', expanded: true, paths: ['name', 'cloud', 'auth'] },
  { title: 'Users', description: 'The people whose Teams presence this bridge sets.', expanded: true, paths: ['users'] },
];

/** The core's form sections after the features' ones. */
const TRAILING_GROUPS: readonly FormSection[] = [
  { title: 'Inputs', description: 'Devices whose signals set presence.', expanded: false, paths: ['inputs'] },
  { title: 'Outputs', description: 'Devices that show presence.', expanded: false, paths: ['outputs'] },
  { title: 'HomeKit', description: 'Accessories exposed per user.', expanded: false, paths: ['homekit'] },
  { title: 'Advanced', description: 'Graph, TLS, proxy and shutdown behaviour; the defaults suit most setups.', expanded: false, paths: ['auth.authorityHost', 'graph', 'tls', 'proxy', 'onShutdown'] },
];

/** Form sections, in order: the core's, with each feature's after Users. An option no section names lands in Advanced, so none goes missing. */
export function formGroups(assembled: Pick<AssembledConfig, 'formSections'>): readonly FormSection[] {
  return [...LEADING_GROUPS, ...assembled.formSections, ...TRAILING_GROUPS];
}

/** The form section an option path lands in. */
export function groupOf(path: string, groups: readonly FormSection[]): string {
  let best: { title: string; length: number } = { title: 'Advanced', length: -1 };
  for (const group of groups) {
    for (const prefix of group.paths) {
      if ((path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[]`)) && prefix.length > best.length) {
        best = { title: group.title, length: prefix.length };
      }
    }
  }
  return best.title;
}

/** Extra conditions on the form: fields that only matter in one sign-in mode. */
const APPLICATION_ONLY = new Set(['auth.clientSecret', 'auth.certificate']);

function conditionFor(field: OptionField): Json | undefined {
  if (APPLICATION_ONLY.has(field.path)) return { functionBody: "return !model.auth || model.auth.mode !== 'delegated';" };
  if (field.only) {
    const array = field.path.slice(0, field.path.indexOf('[]'));
    const values = field.only.values.map((v) => `'${v}'`).join(', ');
    const item = `model.${array}[arrayIndices]`;
    return { functionBody: `return !!(model.${array} && ${item} && [${values}].includes(${item}.${field.only.discriminator}));` };
  }
  return undefined;
}

function withCondition(item: Json, field: OptionField): Json {
  const condition = conditionFor(field);
  return condition ? { ...item, condition } : item;
}

function layoutItems(fields: readonly OptionField[], group: string, groups: readonly FormSection[]): (Json | string)[] {
  const items: (Json | string)[] = [];
  for (const field of fields) {
    if (field.kind === 'object') {
      // Fields of a type-specific object (a serial light's templates, an HTTP light's bodies)
      // show only for that type, like the object itself.
      const only = field.only;
      const children = only ? field.children.map((child) => (child.only ? child : { ...child, only })) : field.children;
      const inner = layoutItems(children, group, groups);
      if (inner.length === 0) continue;
      // Top-level objects are flattened into their section, and so are objects inside a list
      // item: anything but a field inside a list is drawn as a list item of its own (a phantom
      // entry on save). Other nested objects become a collapsed fieldset.
      if (!field.path.includes('.') || field.path.includes('[]')) items.push(...inner);
      else items.push(withCondition({ type: 'fieldset', title: field.title, description: field.description, expandable: true, expanded: false, items: inner }, field));
      continue;
    }
    if (groupOf(field.path, groups) !== group) continue;
    if (field.kind === 'array' && field.itemsAreObjects) {
      // A list that is its whole section (Users, Inputs) leaves the title to the section.
      const ownSection = !field.path.includes('.') && !field.path.includes('[]') && field.title === group;
      items.push({
        key: field.path,
        type: 'array',
        ...(ownSection ? { notitle: true } : { title: field.title, description: field.description }),
        orderable: false,
        buttonText: `Add ${field.title.toLowerCase().replace(/s$/, '')}`,
        items: layoutItems(field.children, group, groups),
      });
    } else if (field.kind === 'array') {
      items.push(withCondition({ key: field.path, type: 'array', title: field.title, description: field.description, items: [`${field.path}[]`] }, field));
    } else if (field.kind === 'record') {
      // A free-form map has no form widget, and a help text inside a list becomes a phantom
      // list item; the form edits its twin list instead (inputs[].values).
      continue;
    } else {
      items.push(leafItem(field));
    }
  }
  return items;
}

/** A field's layout entry: a password box for secrets, the default as a placeholder where the form must not save it. */
function leafItem(field: OptionField): Json | string {
  const item: Json = { key: field.path };
  if (field.secret) item['type'] = 'password';
  if ((!field.hasDefault || !field.defaultInForm) && field.json['type'] === 'boolean') {
    // An untouched checkbox saves false; a drop-down left empty saves nothing.
    item['type'] = 'select';
    item['titleMap'] = [true, false].map((value) => ({ value, name: `${value ? 'Yes' : 'No'}${field.hasDefault && value === field.defaultValue ? ' (default)' : ''}` }));
  }
  if (field.hasDefault && !field.defaultInForm && field.json['type'] !== 'boolean' && !Array.isArray(field.defaultValue)) {
    // JSON's escapes, so a newline default reads \n rather than as an empty box.
    item['placeholder'] = typeof field.defaultValue === 'string' ? JSON.stringify(field.defaultValue).slice(1, -1) : String(field.defaultValue);
  }
  const withIt = withCondition(item, field);
  return Object.keys(withIt).length === 1 ? field.path : withIt;
}

/** Where the docs are read online; package.json's homepage points at the same repository. */
export const REPOSITORY_URL = 'https://github.com/presence-bridge/homebridge-presence-bridge';

export const HEADER_DISPLAY =
  'Turns desk signals (MQTT topics, serial ports, HomeKit switches) into Microsoft Teams presence through Microsoft Graph presence sessions. ' +
  `Every option is explained in the [configuration guide](${REPOSITORY_URL}/blob/main/docs/configuration.md).`;

export function buildConfigSchema(assembled: AssembledConfig): Json {
  const fields = configFields(assembled.schema);
  const groups = formGroups(assembled);
  const layout = groups.map((group) => {
    const items = layoutItems(fields, group.title, groups);
    // A section that is one list (Users, Inputs): the list shows its own description.
    const listOnly = items.length === 1 && typeof items[0] === 'object' && items[0]['notitle'] === true;
    return { type: 'fieldset', title: group.title, ...(listOnly ? {} : { description: group.description }), expandable: true, expanded: group.expanded ?? false, items };
  }).filter((g) => g.items.length > 0);
  return {
    pluginAlias: 'PresenceBridge',
    pluginType: 'platform',
    singular: true,
    customUi: true,
    headerDisplay: HEADER_DISPLAY,
    footerDisplay: 'Secrets are stored in Homebridge\'s config.json; the bridge never logs them.',
    schema: objectJson(fields),
    layout,
  };
}

export function renderConfigSchema(assembled: AssembledConfig): string {
  return `${JSON.stringify(buildConfigSchema(assembled), null, 2)}\n`;
}
