import { randomBytes, randomUUID } from 'node:crypto';
import type { ClientCertificate } from './certificates.js';

export interface EmulatedApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly displayName: string;
  /** Application permissions (app roles) granted with admin consent, e.g. `Presence.ReadWrite.All`. */
  readonly permissions: string[];
  /** Delegated permissions consented for every user (tokens carry them all in `scp`). */
  readonly delegatedPermissions: string[];
  /** "Allow public client flows": device code without a secret. */
  readonly allowPublicClient: boolean;
  /** Certificates registered as credentials (public part only is needed to verify). */
  readonly certificates: { certPem: string; thumbprint: string; thumbprintSha256: string }[];
  /** The generated credential of the first app, private key included, for dry runs and tests. */
  readonly certificate?: ClientCertificate;
}

export interface EmulatedUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
}

/** A security group: direct members are object ids of users or of other groups (nesting). */
export interface EmulatedGroup {
  readonly id: string;
  readonly displayName: string;
  readonly members: string[];
}

export interface Directory {
  readonly tenantId: string;
  /** The verified domain, usable in place of the tenant id in authority URLs. */
  readonly domain: string;
  readonly apps: EmulatedApp[];
  readonly users: EmulatedUser[];
  /** Absent in state files written before groups existed (read as none). */
  readonly groups: EmulatedGroup[];
}

/** Graph's resource id: the `aud` of tokens for Graph. */
export const GRAPH_RESOURCE_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

function secret(): string {
  // Entra secrets are 40 characters with a `~` after a 3-character prefix.
  return `${randomBytes(2).toString('hex').slice(0, 3)}8Q~${randomBytes(27).toString('base64url').slice(0, 36)}`;
}

export function createDirectory(clientCertificate?: ClientCertificate, appPermissions: readonly string[] = ['Presence.ReadWrite.All', 'User.ReadBasic.All']): Directory {
  const domain = 'contoso.example';
  const users: EmulatedUser[] = [
    { id: randomUUID(), userPrincipalName: `alex.wilber@${domain}`, displayName: 'Alex Wilber' },
    { id: randomUUID(), userPrincipalName: `megan.bowen@${domain}`, displayName: 'Megan Bowen' },
    { id: randomUUID(), userPrincipalName: `lee.gu@${domain}`, displayName: 'Lee Gu' },
  ];
  const apps: EmulatedApp[] = [
    {
      clientId: randomUUID(),
      clientSecret: secret(),
      displayName: 'Presence Bridge',
      permissions: [...appPermissions],
      delegatedPermissions: ['Presence.ReadWrite', 'User.Read'],
      allowPublicClient: true,
      certificates: clientCertificate
        ? [{ certPem: clientCertificate.certPem, thumbprint: clientCertificate.thumbprint, thumbprintSha256: clientCertificate.thumbprintSha256 }]
        : [],
      ...(clientCertificate ? { certificate: clientCertificate } : {}),
    },
    {
      clientId: randomUUID(),
      clientSecret: secret(),
      displayName: 'Unconsented App',
      permissions: [],
      delegatedPermissions: ['User.Read'],
      allowPublicClient: false,
      certificates: [],
    },
  ];
    // One ready-made security group of all three users, for trying `userGroups`.
  const groups: EmulatedGroup[] = [{ id: randomUUID(), displayName: 'Presence Bridge users', members: users.map((u) => u.id) }];
  return { tenantId: randomUUID(), domain, apps, users, groups };
}

export interface AppSpec {
  displayName?: string;
  /** Application permissions, admin-consented (default: those of apps[0]). */
  permissions?: readonly string[];
}

/**
 * Another registration with a client secret (no certificate, no public client flows), added
 * after the ready-made ones: e.g. one per shard of a fleet, each with its own throttling budget.
 */
export function addApp(directory: Directory, spec: AppSpec = {}): EmulatedApp {
  const app: EmulatedApp = {
    clientId: randomUUID(),
    clientSecret: secret(),
    displayName: spec.displayName ?? `Presence Bridge ${directory.apps.length}`,
    permissions: [...(spec.permissions ?? directory.apps[0]?.permissions ?? [])],
    delegatedPermissions: [],
    allowPublicClient: false,
    certificates: [],
  };
  directory.apps.push(app);
  return app;
}

export function findUser(directory: Directory, idOrUpn: string): EmulatedUser | undefined {
  const key = idOrUpn.toLowerCase();
  return directory.users.find((u) => u.id.toLowerCase() === key || u.userPrincipalName.toLowerCase() === key);
}

export function findApp(directory: Directory, clientId: string): EmulatedApp | undefined {
  const key = clientId.toLowerCase();
  return directory.apps.find((a) => a.clientId.toLowerCase() === key);
}

/** The tenant segment of an authority: the id, the domain, `organizations` or `common`. */
export function matchesTenant(directory: Directory, segment: string): boolean {
  const s = segment.toLowerCase();
  return s === directory.tenantId.toLowerCase() || s === directory.domain || s === 'organizations' || s === 'common';
}
