import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DOC_EXAMPLE, REPOSITORY_URL } from '../../src/config/formSchema.js';

type Json = Record<string, unknown>;
const root = new URL('../../', import.meta.url);
const schemaFile = JSON.parse(readFileSync(new URL('config.schema.json', root), 'utf8')) as Json;
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Json;

/**
 * What the Homebridge verified-plugin checker does with a plugin's form: compile the schema with
 * Ajv 8 in strict mode, which rejects per-field `"required": true`, unknown keywords and other
 * schema mistakes. Form-only hints (conditions, placeholders, password boxes) belong in the layout.
 */
describe('verified checker readiness', () => {
  it('config.schema.json compiles under Ajv 8 strict mode', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    expect(() => ajv.compile(schemaFile['schema'] as Json)).not.toThrow();
  });

  it('the strict compile is not lenient: a per-field "required": true is refused', () => {
    const ajv = new Ajv({ strict: true });
    expect(() => ajv.compile({ type: 'object', properties: { name: { type: 'string', required: true } } })).toThrow();
  });

  it('accepts the documented example and refuses a block without auth (users may be empty when userGroups names a group)', () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(schemaFile['schema'] as Json);
    const { platform: _platform, ...example } = DOC_EXAMPLE as Json;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...example, auth: undefined })).toBe(false);
  });

  it('declares the platform, a name property and a single block', () => {
    expect(schemaFile).toMatchObject({ pluginAlias: 'PresenceBridge', pluginType: 'platform', singular: true });
    expect(Object.keys(at(schemaFile, 'schema', 'properties', 'name') as Json).length).toBeGreaterThan(0);
  });

  it('package.json carries homepage, bugs, repository and an author, and a CHANGELOG exists', () => {
    expect(pkg['homepage']).toMatch(new RegExp(`^${REPOSITORY_URL}`));
    expect(pkg['bugs']).toMatchObject({ url: `${REPOSITORY_URL}/issues` });
    expect(pkg['repository']).toMatchObject({ type: 'git', url: `git+${REPOSITORY_URL}.git` });
    expect(typeof pkg['author'] === 'string' ? pkg['author'] : (pkg['author'] as Json | undefined)?.['name']).toMatch(/\w/);
    expect(pkg['files']).toContain('CHANGELOG.md');
    const changelog = readFileSync(new URL('CHANGELOG.md', root), 'utf8');
    expect(changelog).toContain(`## ${String(pkg['version'])}`);
  });

  it('the form header links the docs online instead of naming a file', () => {
    expect(schemaFile['headerDisplay']).toContain(`](${REPOSITORY_URL}/blob/main/docs/configuration.md)`);
  });
});

function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = typeof current === 'object' && current !== null ? (current as Json)[key] : undefined;
  return current;
}
