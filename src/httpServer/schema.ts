import { z } from 'zod';

/** The `http` section: the one local HTTP server (status page, API, health, metrics). */
export const httpSectionSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).meta({ title: 'Port', description: 'Port of the local HTTP server (status page, health probes, API); 0 picks a free one.' }),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .meta({ title: 'Listen address', description: 'Address the server listens on. Beyond loopback (0.0.0.0, a LAN address) every page and API route asks for the access token.' }),
    token: z
      .string()
      .min(16)
      .optional()
      .meta({ title: 'Access token', description: 'Token the server asks for (16 characters or more; never logged). Beyond loopback one is generated at start when unset.', secret: true }),
  })
  .strict();

export type HttpSectionConfig = z.output<typeof httpSectionSchema>;
