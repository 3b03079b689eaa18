#!/usr/bin/env node
import { nodeVersionProblem } from '../nodeVersion.js';

// The `presence-bridge` command: the Node version is checked before the CLI and its
// dependencies load (they fail on an older Node with errors that do not say why).
const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`presence-bridge: ${problem}\n`);
  process.exitCode = 1;
} else {
  const { runProgram } = await import('./main.js');
  runProgram();
}
