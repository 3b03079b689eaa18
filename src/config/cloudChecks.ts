/**
 * What the clouds allow, checked before anything is sent: the v1.0 presence pages list the China
 * cloud (21Vianet) as not supported, and the beta presence pages the global cloud only. Pure.
 * https://learn.microsoft.com/graph/api/presence-setpresence (National cloud deployments)
 */

export interface CloudProblem {
  readonly path: readonly string[];
  readonly message: string;
}

export const CHINA_PRESENCE_MESSAGE =
  'Microsoft Graph presence does not exist in the China cloud (operated by 21Vianet): the presence pages list it as not supported, so this bridge cannot set Teams presence there';

/** Problems that make the config unable to work at all (the CLI exits 2, the plugin goes inert). */
export function cloudErrors(raw: Record<string, unknown>): CloudProblem[] {
  return raw['cloud'] === 'china' ? [{ path: ['cloud'], message: CHINA_PRESENCE_MESSAGE }] : [];
}

/** Things that may work but are not documented to: said by `check-config` and at start. */
export function cloudWarnings(config: { readonly cloud: string; readonly graph: { readonly baseUrl?: string | undefined } }): string[] {
  const warnings: string[] = [];
  const baseUrl = config.graph.baseUrl;
  if (baseUrl !== undefined && config.cloud !== 'global' && /\/beta\/?$/i.test(baseUrl)) {
    warnings.push(`graph.baseUrl: the beta presence API (setPresence included) is documented for the global cloud only, not ${config.cloud}; use /v1.0`);
  }
  return warnings;
}

/** Users given by user principal name: each is looked up once, which needs a directory permission. */
export function upnNotes(config: { readonly auth: { readonly mode: string }; readonly users: readonly { readonly key: string; readonly id: string }[] }): string[] {
  const upns = config.users.filter((u) => u.id.includes('@'));
  if (upns.length === 0) return [];
  const who = `${upns.length === 1 ? 'user' : 'users'} ${upns.map((u) => u.key).join(', ')} ${upns.length === 1 ? 'is' : 'are'}`;
  return [
    config.auth.mode === 'delegated'
      ? `${who} given by user principal name: matched to the signed-in account (its object id), which needs the delegated User.Read`
      : `${who} given by user principal name: each is resolved once to its object id with GET /users/{upn}, which needs the application permission User.ReadBasic.All (or User.Read.All) with admin consent; presence calls use the object id`,
  ];
}
