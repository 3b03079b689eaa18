export { registerStatusPage, type DemoButton, type DemoButtons, type StatusPage, type StatusPageOptions, type StatusSnapshot, type StatusSource, type StateEvent } from './statusRoutes.js';
export { MAX_EVENT_CLIENTS, MAX_EVENT_CLIENTS_PER_ADDRESS, MAX_BUFFERED_BYTES_PER_CLIENT } from './liveClients.js';
export { isLoopbackHost } from '../shared/httpHelpers.js';
export { Timeline, type TimelineEntry, MAX_DETAIL_CHARS } from './timeline.js';
export { UserIndex, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type UserCounts, type UserQuery } from './userIndex.js';
