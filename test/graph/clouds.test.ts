import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../src/shared/clouds.js';
import { GraphConfigError } from '../../src/graph/errors.js';

const tenantId = 'contoso.onmicrosoft.com';
const base = { auth: { mode: 'application' as const, tenantId, clientId: 'c' }, graph: { baseUrl: undefined as string | undefined, expiration: 'PT1H', maxRequestsPer30s: 1000, pollSeconds: 60, timeoutSeconds: 30 } };

describe('national clouds pick the Graph and sign-in hosts', () => {
  it.each([
    ['global', 'https://graph.microsoft.com', 'https://login.microsoftonline.com'],
    ['usgov', 'https://graph.microsoft.us', 'https://login.microsoftonline.us'],
    ['dod', 'https://dod-graph.microsoft.us', 'https://login.microsoftonline.us'],
    ['china', 'https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn'],
  ] as const)('%s', (cloud, graph, login) => {
    const e = resolveEndpoints({ ...base, cloud });
    expect(e.graphBaseUrl).toBe(`${graph}/v1.0`);
    expect(e.authority).toBe(`${login}/${tenantId}`);
    expect(e.authorityHost).toBe(new URL(login).host);
    expect(e.applicationScopes).toEqual([`${graph}/.default`]);
    expect(e.delegatedScopes).toEqual([`${graph}/Presence.ReadWrite`]);
  });

  it.each([
    // [authorityHost override, graph.baseUrl override, expected authority, graph base, scope origin, knownAuthorities host]
    ['https://127.0.0.1:8443', 'https://127.0.0.1:8443', 'https://127.0.0.1:8443/contoso.onmicrosoft.com', 'https://127.0.0.1:8443/v1.0', 'https://127.0.0.1:8443', '127.0.0.1:8443'],
    ['https://login.example/', 'https://graph.example/v1.0/', 'https://login.example/contoso.onmicrosoft.com', 'https://graph.example/v1.0', 'https://graph.example', 'login.example'],
    [undefined, 'https://graph.example/beta', 'https://login.microsoftonline.us/contoso.onmicrosoft.com', 'https://graph.example/beta', 'https://graph.example', 'login.microsoftonline.us'],
  ])('overrides %s and %s', (authorityHost, baseUrl, authority, graphBase, scopeOrigin, known) => {
    const e = resolveEndpoints({ ...base, cloud: 'usgov', auth: { ...base.auth, authorityHost }, graph: { ...base.graph, baseUrl } });
    expect(e.authority).toBe(authority);
    expect(e.graphBaseUrl).toBe(graphBase);
    expect(e.applicationScopes).toEqual([`${scopeOrigin}/.default`]);
    expect(e.authorityHost).toBe(known);
  });

  it.each([
    [{ authorityHost: 'http://127.0.0.1:8443' }, {}],
    [{}, { baseUrl: 'http://127.0.0.1:8443' }],
    [{ authorityHost: 'not a url' }, {}],
  ])('refuses non-https or broken overrides (%j %j)', (auth, graph) => {
    expect(() => resolveEndpoints({ ...base, cloud: 'global', auth: { ...base.auth, ...auth }, graph: { ...base.graph, ...graph } })).toThrow(GraphConfigError);
  });
});

describe('the cloud table below the config layer', () => {
  it('names exactly the clouds the config schema accepts, each with https hosts', async () => {
    const { CLOUD_NAMES, CLOUDS } = await import('../../src/shared/clouds.js');
    const { configHead } = await import('../../src/config/schema.js');
    const accepted = configHead.cloud.unwrap().options;
    expect([...CLOUD_NAMES].sort()).toEqual([...accepted].sort());
    expect(Object.keys(CLOUDS).sort()).toEqual([...CLOUD_NAMES].sort());
    for (const hosts of Object.values(CLOUDS)) {
      expect(new URL(hosts.graphOrigin).protocol).toBe('https:');
      expect(new URL(hosts.authorityOrigin).protocol).toBe('https:');
    }
  });
});
