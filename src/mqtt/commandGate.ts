// The gate moved to src/presence/commandGate.ts so the HTTP API shares it; kept here for the MQTT imports.
export { CommandGate, COMMANDS_PER_WINDOW, COMMAND_WINDOW_MS } from '../session/commandGate.js';
export type { CommandGateOptions, Offered } from '../session/commandGate.js';
