import type { HttpRequest } from '../feature.js';
import { templateFor } from '../presence/availabilityTemplate.js';
import type { HttpOutputConfig } from './schema.js';

export interface RequestValues {
  readonly availability: string;
  readonly userKey: string;
  readonly displayName: string;
}

const PLACEHOLDER = /\{\{\s*(availability|user|name|body)\s*\}\}/g;

function fill(template: string, values: RequestValues, body: string, encode: (text: string) => string): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    if (key === 'body') return body;
    return encode(key === 'availability' ? values.availability : key === 'user' ? values.userKey : values.displayName);
  });
}

function looksLikeJson(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/**
 * The request an output sends for an availability, or null when its bodies have none for it (nor
 * a default). Placeholders are filled in the URL (URL-encoded, except `{{body}}`, which is put in
 * as written) and in the body; GET carries no body.
 */
export function buildRequest(output: HttpOutputConfig, values: RequestValues): Omit<HttpRequest, 'timeoutMs' | 'caFile'> | null {
  const templates = Object.fromEntries(Object.entries(output.body).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const hasBodies = Object.keys(templates).length > 0;
  const template = hasBodies ? templateFor(templates, values.availability) : '';
  if (template === undefined) return null;
  const body = fill(template, values, '', (text) => text);
  const url = fill(output.url, values, body, encodeURIComponent);
  const headers: Record<string, string> = { ...output.headers };
  const sendsBody = output.method !== 'GET' && body !== '';
  if (sendsBody && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['content-type'] = looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
  }
  return sendsBody ? { method: output.method, url, headers, body } : { method: output.method, url, headers };
}

/** Method and where, for a log line: scheme, host and port only (paths and queries hold webhook ids and tokens). */
export function describeTarget(method: string, url: string): string {
  try {
    const parsed = new URL(url);
    return `${method} ${parsed.origin}${parsed.pathname === '/' && parsed.search === '' ? '/' : '/…'}`;
  } catch {
    return `${method} (not a URL)`;
  }
}

/** Whether a failed request is worth repeating: the network, a timeout, or a server that says later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
