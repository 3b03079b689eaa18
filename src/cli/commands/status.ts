import type { CliCommand } from '../command.js';
import { EXIT } from '../command.js';

// Placeholder until its issue lands; replaced, never shipped as done.
export const command: CliCommand = {
  name: 'status',
  summary: '(not built yet)',
  help: 'presence-bridge status: not built yet',
  run(_args, io) {
    io.stderr.write('presence-bridge status is not built yet\n');
    return Promise.resolve(EXIT.failure);
  },
};
