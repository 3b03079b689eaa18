/** What the bridge needs from an emulator's facts (the JSON line `presence-bridge emulator` prints). */
export interface EmulatorConnectionFacts {
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  readonly caCertFile: string;
  readonly tenantId: string;
  readonly apps: readonly { readonly clientId: string; readonly clientSecret: string }[];
}

/**
 * The config entries that point the bridge at an emulator: `auth` (tenant, app, sign-in host),
 * `graph.baseUrl` and `tls.caFile`, as docs/emulator.md tells users to paste them. Application
 * mode signs in with the app's secret; delegated mode with a device code (no secret).
 */
export function emulatorConfigBlock(
  facts: EmulatorConnectionFacts,
  options: { mode?: 'application' | 'delegated'; appIndex?: number; graph?: Record<string, unknown> } = {},
): { auth: Record<string, string>; graph: Record<string, unknown>; tls: { caFile: string } } {
  const mode = options.mode ?? 'application';
  const app = facts.apps[options.appIndex ?? 0];
  if (!app) throw new Error(`the emulator has no application ${options.appIndex ?? 0}`);
  return {
    auth: {
      mode,
      tenantId: facts.tenantId,
      clientId: app.clientId,
      ...(mode === 'application' ? { clientSecret: app.clientSecret } : {}),
      authorityHost: facts.authorityHost,
    },
    graph: { baseUrl: facts.graphBaseUrl, ...options.graph },
    tls: { caFile: facts.caCertFile },
  };
}
