export { startStatusServer, MAX_EVENT_CLIENTS, type DemoButton, type StatusServer, type StatusServerOptions, type StatusSnapshot } from './statusServer.js';
export { Timeline, type TimelineEntry, MAX_DETAIL_CHARS } from './timeline.js';
