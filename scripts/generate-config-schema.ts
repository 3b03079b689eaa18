/**
 * Writes config.schema.json (the Homebridge UI form) and docs/configuration.md (the option
 * table) from the config the registry assembles (src/configuration.ts). Run after `npm run build`:
 *
 *   node scripts/generate-config-schema.ts          # write both files
 *   node scripts/generate-config-schema.ts --check  # exit 1 when a committed file is stale
 *
 * It loads the compiled modules from dist/ (Node strips the types of this file itself), and
 * test/config/formSchema.test.ts fails when the committed files differ from a fresh render.
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface FormSchemaModule {
  renderConfigSchema(): string;
  renderConfigurationDoc(): string;
}

const root = new URL('../', import.meta.url);
const modulePath = new URL('dist/configuration.js', root).href;
const generator = (await import(modulePath)) as FormSchemaModule;

const outputs: { file: string; content: string }[] = [
  { file: 'config.schema.json', content: generator.renderConfigSchema() },
  { file: 'docs/configuration.md', content: generator.renderConfigurationDoc() },
];

const check = process.argv.includes('--check');
let stale = 0;
for (const { file, content } of outputs) {
  const url = new URL(file, root);
  let current: string | undefined;
  try {
    current = readFileSync(url, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) {
    process.stdout.write(`${file}: up to date\n`);
  } else if (check) {
    process.stdout.write(`${file}: stale; run npm run schema\n`);
    stale++;
  } else {
    writeFileSync(url, content);
    process.stdout.write(`${file}: written\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
