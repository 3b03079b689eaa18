export { startStatusServer, isLoopbackHost, MAX_EVENT_CLIENTS, MAX_EVENT_CLIENTS_PER_ADDRESS, MAX_BUFFERED_BYTES_PER_CLIENT, type DemoButton, type StatusServer, type StatusServerOptions, type StatusSnapshot } from './statusServer.js';
export { Timeline, type TimelineEntry, MAX_DETAIL_CHARS } from './timeline.js';
