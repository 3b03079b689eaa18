/** Config of the fleet feature (issue 19): users from Entra groups, and shards. */
import { z } from 'zod';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const userGroupSchema = z
  .object({
    id: z.string().regex(GUID, 'must be the group\'s object id (a GUID)').meta({ title: 'Group id', description: 'Object id of an Entra group: its members (nested groups included) become users. Reading them needs the application permission GroupMember.Read.All.' }),
    keyFrom: z
      .enum(['userPrincipalName', 'mail', 'id'])
      .default('userPrincipalName')
      .meta({ title: 'Key from', description: 'Which attribute a member\'s key is made from: the local part of userPrincipalName (default) or mail, or the object id; made lower-case with letters, digits, _ and -.' }),
    refreshMinutes: z
      .number()
      .min(0.25)
      .max(1440)
      .default(15)
      .meta({ title: 'Refresh (minutes)', description: 'How often the members are read again; joins and leaves take effect then, without a restart. Fractions are allowed down to 0.25 (15 s), for a small group.' }),
  })
  .strict();

export const fleetSchema = z
  .object({
    shard: z
      .string()
      .regex(/^\d+\/\d+$/, 'must look like I/N, e.g. 0/3')
      .optional()
      .meta({ title: 'Shard', description: 'I/N: this instance owns the users whose id hashes to I of N (0-based). --shard overrides it; unset, a StatefulSet pod takes I from its hostname (name-2 is 2) with N from shardCount.' }),
    shardCount: z.number().int().min(1).max(1024).optional().meta({ title: 'Shard count', description: 'N when the shard index comes from the hostname (also PRESENCE_BRIDGE_SHARDS).' }),
    shardAuth: z
      .array(
        z
          .object({
            clientId: z.string().min(1).meta({ title: 'Client id', description: 'Application (client) id of this shard\'s own app registration.' }),
            clientSecret: z.string().min(1).meta({ title: 'Client secret', description: 'Its client secret. Never logged.', secret: true }),
          })
          .strict(),
      )
      .optional()
      .meta({ title: 'App registration per shard', description: 'Entry I replaces auth.clientId and auth.clientSecret on shard I, which then has all of graph.maxRequestsPer30s (a registration\'s own budget) instead of 1/N of it.' }),
  })
  .strict();

export type UserGroupConfig = z.output<typeof userGroupSchema>;
export type FleetConfig = z.output<typeof fleetSchema>;
