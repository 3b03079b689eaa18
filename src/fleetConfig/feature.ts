import type { FeatureDefinition } from '../feature.js';
import { fleetSchema, userGroupSchema, type FleetConfig, type UserGroupConfig } from './schema.js';
import { z } from 'zod';

/*
 * The fleet's config (issue 19). Neither definition has a runtime part inside a bridge: the
 * fleet runner (src/fleet/runner.ts) sits above bridges, reads the groups and the shard, and
 * builds each bridge from the users it owns.
 */

/** `userGroups`: Entra groups whose members are users too. */
export const userGroupsFeature: FeatureDefinition<readonly UserGroupConfig[]> = {
  name: 'userGroups',
  section: {
    key: 'userGroups',
    schema: z.array(userGroupSchema).optional(),
    title: 'User groups',
    description: 'Entra groups whose members are users too, read with paging and refreshed (docs/fleet.md).',
  },
  form: { title: 'User groups', description: 'Users from Entra groups, refreshed without a restart; in Homebridge, one accessory per member (docs/fleet.md).', expanded: false, paths: ['userGroups'] },
  suppliesUsers: (raw) => Array.isArray(raw['userGroups']) && raw['userGroups'].length > 0,
  select: (config) => (config.userGroups && config.userGroups.length > 0 ? config.userGroups : null),
};

/** `fleet`: this instance's shard of the users. */
export const fleetFeature: FeatureDefinition<FleetConfig> = {
  name: 'fleet',
  section: { key: 'fleet', schema: fleetSchema.optional(), title: 'Fleet', description: 'Sharding users over several instances (docs/fleet.md).' },
  form: { title: 'Fleet', description: 'Shards of a fleet of daemons (presence-bridge run); the Homebridge plugin runs no shards and stays inactive with more than one (docs/fleet.md).', expanded: false, paths: ['fleet'] },
  select: (config) => config.fleet ?? null,
};

declare module '../config/schema.js' {
  interface FeatureSections {
    userGroups?: UserGroupConfig[];
    fleet?: FleetConfig;
  }
}
