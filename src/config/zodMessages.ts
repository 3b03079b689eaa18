import type { z } from 'zod';
import { closest, knownKeysAt } from './introspect.js';
import { describeType, isRecord, valueAt, type Path, type ProblemList } from './paths.js';

/** zod's structural issues, worded for people: `path: message`, with "did you mean" for misspelt options. */

export function zodIssues(root: z.ZodType, issues: readonly z.core.$ZodIssue[], raw: unknown, base: Path, report: ProblemList): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(root, path, raw) ?? [];
        for (const key of issue.keys) {
          const guess = closest(key, known);
          report.add([...path, key], `unknown option ${JSON.stringify(key)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}`);
        }
        break;
      }
      case 'invalid_type': {
        const value = valueAt(raw, path);
        if (value === undefined) report.add(path, 'is required');
        else {
          const expected = issue.expected === 'int' ? 'a whole number' : issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'an object' : issue.expected === 'string' ? 'text' : `a ${issue.expected}`;
          report.add(path, `must be ${expected}, not ${describeType(value)}`);
        }
        break;
      }
      case 'invalid_value':
        report.add(path, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
        break;
      case 'invalid_union': {
        const value = valueAt(raw, path);
        if ('discriminator' in issue && issue.discriminator !== undefined) {
          const options = (issue as { options?: unknown[] }).options ?? [];
          if (value === undefined) report.add(path, `is required: one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
          else report.add(path, `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
          break;
        }
        // A map entry: text, or {set, for}. When an object was given, its own errors say more.
        if (isRecord(value)) {
          const objectBranch = issue.errors.find((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
          if (objectBranch) {
            zodIssues(root, objectBranch, raw, path, report);
            break;
          }
        }
        report.add(path, `must be a presence (e.g. "Busy/InACall"), "clear", "toggle" or {"set": presence, "for": duration}, not ${describeType(value)}`);
        break;
      }
      case 'too_small': {
        if (issue.origin === 'string') report.add(path, 'must not be empty');
        else if (issue.origin === 'array') report.add(path, `needs at least ${String(issue.minimum)} ${Number(issue.minimum) === 1 ? 'entry' : 'entries'}`);
        else report.add(path, `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`);
        break;
      }
      case 'too_big':
        report.add(path, `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`);
        break;
      default:
        // invalid_format and custom refinements carry the schema's own message.
        report.add(path, issue.message);
    }
  }
}
