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

  /**
   * Signs a user in, opens the attacker's page at `host` in the same browser, and returns the
   * status of the POST its form sent; the user must still be signed in afterwards.
   */
  async function forgedFrom(host: 'localhost' | '127.0.0.1'): Promise<{ status: number; body: unknown }> {
    const context = await signedIn();
    const attacker = await otherOrigin(autoPost(`${suite.origin}/auth/logout-all`));
    try {
      const page = await context.newPage();
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${suite.origin}/auth/logout-all`),
        page.goto(attacker.origin.replace('localhost', host)),
      ]);
      const answer = { status: response.status(), body: await response.json() };
      await stillSignedIn(context);
      return answer;
    } finally {
      await attacker.close();
      await context.close();
    }
  }

  it('a form on another port of localhost (same site, other origin: SameSite lets the cookies go) is refused with 403', async () => {
    const { status, body } = await forgedFrom('localhost');
    expect(status).toBe(403);
    expect(body).toMatchObject({ statusCode: 403 });
  }, 60_000);

  it('a form on another site (127.0.0.1 is not localhost) is refused too, and the session lives on', async () => {
    // SameSite=Lax keeps the cookies off this POST, and the origin check refuses it anyway.
    expect([401, 403]).toContain((await forgedFrom('127.0.0.1')).status);
  }, 60_000);
});
