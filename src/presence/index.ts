/** The pure presence core: pairs, mapping, arbiter, renewal schedule, retry delay, rate limit. */
export * from './presencePair.js';
export * from './intent.js';
export * from './duration.js';
export * from './mapping.js';
export * from './presenceArbiter.js';
export * from './renewalSchedule.js';
export * from './retryDelay.js';
export * from './rateLimiter.js';
