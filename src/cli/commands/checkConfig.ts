import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand, CliIo } from '../command.js';
import { EXIT } from '../command.js';
import { loadConfigFile } from '../../configuration.js';
import { describeConfig, formatSummary } from '../../config/describe.js';
import { cloudWarnings, upnNotes } from '../../config/cloudChecks.js';
import { formatTemplateNotes, templateNotes } from '../../fleet/checkNotes.js';

const HELP = `Usage: presence-bridge check-config <file> [--json]

Checks a Presence Bridge config without starting anything or contacting Microsoft.
The file holds the PresenceBridge platform block, or a whole Homebridge config.json
(its "platform": "PresenceBridge" block is picked).

  Valid       prints what the bridge will do (users, inputs and what each input value
              does, outputs, cloud and hosts, sign-in mode; never a secret); exit 0.
  Invalid     prints every problem as "path: message", one per line, on stderr; exit 2.
              This includes cloud "china": Graph presence does not exist there.
  Warnings    things that may not work (the beta API outside the global cloud) are
              printed as "warning: ..." lines on stderr; they do not change the exit code.
  Notes       what users given by user principal name need (User.ReadBasic.All).
  Fleet       how many inputs each input template ("topic": "desk/{user}/hook") made,
              with one example, and the groups users are read from.
  Unreadable  prints the file name and, for bad JSON, the line:column of the error; exit 2.

Options:
  --json              print {"ok": true, "file", "summary"} or {"ok": false, "file", "errors"}
                      on stdout instead (same exit codes)
  -c, --config FILE   the file, as an option instead of an argument
  -h, --help          this text

Examples:
  presence-bridge check-config ~/.homebridge/config.json
  presence-bridge check-config presence.json --json
`;

function usageError(io: CliIo, message: string): number {
  io.stderr.write(`presence-bridge check-config: ${message}\n\nUsage: presence-bridge check-config <file> [--json]\n`);
  return EXIT.usage;
}

async function run(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { json: { type: 'boolean' }, config: { type: 'string', short: 'c' } }, allowPositionals: true, strict: true });
  } catch (error) {
    return usageError(io, (error instanceof Error ? error.message : String(error)).replace(/\. To specify a positional argument.*$/s, ''));
  }
  const files = [...(parsed.values.config === undefined ? [] : [parsed.values.config]), ...parsed.positionals];
  if (files.length === 0) return usageError(io, 'which file? Give the config file to check');
  if (files.length > 1) return usageError(io, `one file at a time (got ${files.length}: ${files.join(', ')})`);
  const file = files[0] ?? '';
  const json = parsed.values.json === true;

  const result = await loadConfigFile(isAbsolute(file) ? file : resolve(io.cwd, file), { displayName: file });
  if (!result.ok) {
    if (json) {
      io.stdout.write(`${JSON.stringify({ ok: false, file, errors: result.errors }, null, 2)}\n`);
    } else if (result.stage === 'validate') {
      const count = result.errors.length;
      io.stderr.write(`${file}: ${count} ${count === 1 ? 'problem' : 'problems'} in the PresenceBridge config\n${result.errors.join('\n')}\n`);
    } else {
      // These lines already start with the file name (and line:column for bad JSON).
      io.stderr.write(`${result.errors.join('\n')}\n`);
    }
    return EXIT.usage;
  }
  const summary = describeConfig(result.config);
  const warnings = cloudWarnings(result.config);
  const notes = upnNotes(result.config);
  const templates = templateNotes(result.config);
  const fleetLines = formatTemplateNotes(result.config);
  if (json) {
    io.stdout.write(`${JSON.stringify({ ok: true, file, summary, ...(warnings.length > 0 ? { warnings } : {}), ...(notes.length > 0 ? { notes } : {}), ...(templates.length > 0 ? { templates } : {}) }, null, 2)}\n`);
  } else {
    io.stdout.write(`${file}: valid\n\n${formatSummary(summary).join('\n')}\n`);
    if (fleetLines.length > 0) io.stdout.write(`\n${fleetLines.join('\n')}\n`);
    if (notes.length > 0) io.stdout.write(`\n${notes.map((n) => `Note: ${n}`).join('\n')}\n`);
    for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  }
  return EXIT.ok;
}

export const command: CliCommand = {
  name: 'check-config',
  summary: 'Check a config file and show what it does (exit 2 with every problem).',
  help: HELP,
  async run(args, io) {
    try {
      return await run(args, io);
    } catch (error) {
      // Never a stack trace: one line saying what went wrong.
      io.stderr.write(`presence-bridge check-config: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT.failure;
    }
  },
};
