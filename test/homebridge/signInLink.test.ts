import { rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, createServerCertificate } from '../../src/emulator/certificates.js';
import { tempDir } from './homebridgeRunner.js';
import { pluginAndBrowser, UiHarness } from './uiHarness.js';

/*
 * The sign-in link the custom UI shows comes from the sign-in service the config names
 * (auth.authorityHost). A hostile or broken one must not get a javascript: or http: link made
 * clickable on the Homebridge UI's page. The service here is a real HTTPS server on loopback that
 * answers the device code request the way Entra does, but with such a link; the plugin's UI
 * server reaches it through real MSAL, and the page runs in headless Chromium.
 */

const cleanups: (() => Promise<void>)[] = [];
const fixture = pluginAndBrowser(120_000);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '66666666-7777-8888-9999-000000000000';

/** A sign-in service that hands out a device code with `verificationUri` and never completes it. */
async function signInService(verificationUri: string): Promise<{ authorityHost: string; caFile: string }> {
  const ca = await createCertificateAuthority();
  const cert = await createServerCertificate(ca);
  const folder = await tempDir('pb-hostile-signin-');
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const caFile = join(folder, 'ca.pem');
  await writeFile(caFile, ca.certPem);
  const server: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
      if (path.endsWith('/oauth2/v2.0/devicecode')) {
        json(200, { device_code: 'dc-1', user_code: 'HOSTILE1', verification_uri: verificationUri, expires_in: 900, interval: 5, message: `To sign in, open ${verificationUri} and enter HOSTILE1.` });
      } else if (path.endsWith('/oauth2/v2.0/token')) {
        json(400, { error: 'authorization_pending', error_description: 'AADSTS70016: pending', error_codes: [70016] });
      } else {
        json(404, { error: 'not_found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { authorityHost: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caFile };
}

async function signInLinkFor(verificationUri: string): Promise<{ href: string | null; text: string; message: string }> {
  const service = await signInService(verificationUri);
  const storagePath = await tempDir('pb-ui-storage-');
  cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
  const config = {
    platform: 'PresenceBridge',
    name: 'Presence Bridge',
    auth: { mode: 'delegated', tenantId: TENANT, clientId: CLIENT, authorityHost: service.authorityHost },
    tls: { caFile: service.caFile },
    users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }],
  };
  const harness = new UiHarness({ packageDir: fixture.plugin.packageDir, storagePath, pluginConfig: [config] });
  await harness.start();
  cleanups.push(() => harness.close());
  const page = await fixture.browser.newPage();
  cleanups.push(() => page.close());
  await page.goto(harness.url);
  const frame = page.frameLocator('#plugin');
  await frame.locator('#presence-bridge').waitFor({ state: 'visible', timeout: 20_000 });
  await frame.locator('#signin-button').click();
  await frame.locator('#signin-user-code').waitFor({ state: 'visible', timeout: 20_000 });
  const link = frame.locator('#signin-link');
  return { href: await link.getAttribute('href'), text: (await link.textContent()) ?? '', message: (await frame.locator('#signin-message').textContent()) ?? '' };
}

describe('custom UI sign-in link (hostile sign-in service, headless Chromium)', () => {
  it('shows a javascript: link as text only, with a note, and never makes it clickable', async () => {
    const shown = await signInLinkFor('javascript:alert(document.domain)');
    expect(shown.href).toBeNull();
    expect(shown.text).toBe('javascript:alert(document.domain)');
    expect(shown.message).toContain('not https:');
  });

  it('does not link an http: address either, and links an https: one', async () => {
    const plain = await signInLinkFor('http://login.example/device');
    expect(plain.href).toBeNull();
    expect(plain.message).toContain('not https:');
    const good = await signInLinkFor('https://microsoft.com/devicelogin');
    expect(good.href).toBe('https://microsoft.com/devicelogin');
    expect(good.message).toContain('HOSTILE1');
  });
});
