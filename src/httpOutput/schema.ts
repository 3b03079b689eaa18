import { z } from 'zod';

const bodyFor = (availability: string): z.ZodOptional<z.ZodString> =>
  z.string().optional().meta({ title: `Body for ${availability}`, description: `Sent when the presence turns ${availability}.` });

/** One fixed field per availability, so the form can edit them (keys match case-insensitively, as for the serial light). */
const bodies = {
  Available: bodyFor('Available'),
  AvailableIdle: bodyFor('AvailableIdle'),
  Busy: bodyFor('Busy'),
  BusyIdle: bodyFor('BusyIdle'),
  DoNotDisturb: bodyFor('DoNotDisturb'),
  BeRightBack: bodyFor('BeRightBack'),
  Away: bodyFor('Away'),
  Offline: bodyFor('Offline'),
  PresenceUnknown: bodyFor('PresenceUnknown'),
  default: z.string().optional().meta({ title: 'Body for any other', description: 'Sent for an availability without a body of its own.' }),
};

/** The availabilities a body may be given for, and `default`. */
export const BODY_KEYS: readonly string[] = Object.keys(bodies);

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH'] as const;

export const httpOutputSchema = z
  .object({
    type: z.literal('http').meta({ title: 'Type', description: 'http: a light or service told over HTTP on every change (WLED, Shelly, ntfy, Hue, a webhook).' }),
    name: z.string().min(1).meta({ title: 'Name', description: 'A unique name for this output.' }),
    user: z.string().optional().meta({ title: 'User', description: 'Key of the user whose presence this output shows. May be left out when exactly one user is configured.' }),
    follow: z
      .enum(['actual', 'asserted'])
      .default('actual')
      .meta({ title: 'Follow', description: 'actual: what Teams shows (read-back, including the user\'s own changes; as fresh as graph.pollSeconds); asserted: what the bridge asserts now, at once.' }),
    method: z.enum(HTTP_METHODS).default('POST').meta({ title: 'Method', description: 'HTTP method; GET sends no body (put {{body}} in the URL instead).' }),
    url: z
      .string()
      .regex(/^https?:\/\//i, 'use an http:// or https:// URL')
      .meta({ title: 'URL', description: 'Where to send. May hold {{availability}}, {{user}}, {{name}} and {{body}} (the chosen body, for devices driven by GET query strings).' }),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .meta({ title: 'Headers', description: 'Extra request headers (e.g. Authorization); their values are never logged. Content-Type defaults to application/json for a JSON body, else text/plain.' }),
    body: z
      .object(bodies)
      .catchall(z.string())
      .default({})
      .meta({
        title: 'Body per availability',
        description: 'Request body per availability, "default" for the rest; AvailableIdle/BusyIdle fall back to Available/Busy. May hold {{availability}}, {{user}} and {{name}}. With no bodies at all the request is sent without one.',
      }),
    timeoutSeconds: z.number().positive().max(120).default(5).meta({ title: 'Timeout (s)', description: 'How long one request may take, connect to last byte.' }),
    retries: z.number().int().min(0).max(20).default(5).meta({ title: 'Retries', description: 'How often a failed request (network error, timeout, 408, 429, 5xx) is retried with growing delays; a newer presence replaces it at once.' }),
    caFile: z.string().optional().meta({ title: 'CA file', description: 'PEM file of a CA to trust for this URL (a device or home server with a certificate from its own authority). A relative path starts at the storage folder.' }),
  })
  .strict();

export type HttpOutputConfig = z.output<typeof httpOutputSchema>;

declare module '../config/schema.js' {
  interface FeatureOutputTypes {
    http: HttpOutputConfig;
  }
}
