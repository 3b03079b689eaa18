import { hash } from 'node:crypto';

/**
 * A short fingerprint of `text` (SHA-1, 27 base64 characters), kept instead of the text where only
 * "is it the same as last time" is asked: one per user and retained topic, so 10,000 users hold
 * fingerprints instead of their last state payloads (issue 16, memory). SHA-1 is not used for
 * security here; a collision between two states of one topic is not a practical event.
 */
export function digest(text: string): string {
  return hash('sha1', text, 'base64').slice(0, 27);
}
