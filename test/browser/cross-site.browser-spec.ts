import { expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { BrowserContext } from 'playwright-core';
import { browserSuite, describeInBrowser, devices, newDevice, otherOrigin, signUp } from '../support/browser.js';

/** An attacker's page: a form that posts itself to the sample's "sign out everywhere" as soon as it loads. */
const autoPost = (action: string) =>
  `<!doctype html><form method="post" action="${action}"><input name="x" value="1"></form>` +
  '<script>document.forms[0].submit()</script>';

describeInBrowser('cross-site requests in cookie mode', () => {
  const suite = browserSuite();

  async function signedIn(): Promise<BrowserContext> {
    const context = await newDevice(suite);
    await signUp(await context.newPage(), `csrf_${randomBytes(4).toString('hex')}`, 'cross-site password');
    return context;
  }

  async function stillSignedIn(context: BrowserContext): Promise<void> {
    const page = await context.newPage();
    await page.goto('/account');
    await page.waitForURL('**/account');
    await devices(page, 1);
  }

  it('a form on another port of localhost (same site, other origin: SameSite lets the cookies go) is refused with 403', async () => {
    const context = await signedIn();
    const attacker = await otherOrigin(autoPost(`${suite.origin}/auth/logout-all`));
    try {
      const page = await context.newPage();
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${suite.origin}/auth/logout-all`),
        page.goto(attacker.origin),
      ]);
      expect(response.status()).toBe(403);
      expect(await response.json()).toMatchObject({ statusCode: 403 });
      await stillSignedIn(context);
    } finally {
      await attacker.close();
      await context.close();
    }
  }, 60_000);

  it('a form on another site (127.0.0.1 is not localhost) is refused too, and the session lives on', async () => {
    const context = await signedIn();
    const attacker = await otherOrigin(autoPost(`${suite.origin}/auth/logout-all`));
    try {
      const page = await context.newPage();
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${suite.origin}/auth/logout-all`),
        page.goto(attacker.origin.replace('localhost', '127.0.0.1')),
      ]);
      // SameSite=Lax keeps the cookies off this POST, and the origin check refuses it anyway.
      expect([401, 403]).toContain(response.status());
      await stillSignedIn(context);
    } finally {
      await attacker.close();
      await context.close();
    }
  }, 60_000);
});
