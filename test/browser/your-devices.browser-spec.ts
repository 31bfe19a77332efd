import { expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  browserSuite,
  describeInBrowser,
  devices,
  heading,
  newDevice,
  screenshot,
  signIn,
  signUp,
} from '../support/browser.js';

const WINDOWS_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const MAC_FIREFOX = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0';

describeInBrowser('"your devices" in Chromium: two browsers of one user', () => {
  const suite = browserSuite();

  it("A sees both devices, signs B out (listed under recent security activity), and B's next page load lands on the sign-in page", async () => {
    const username = `dev_${randomBytes(4).toString('hex')}`;
    const password = 'browser test password';
    const a = await newDevice(suite, WINDOWS_CHROME);
    const b = await newDevice(suite, MAC_FIREFOX);
    try {
      const pageA = await a.newPage();
      await signUp(pageA, username, password);
      await devices(pageA, 1);

      const pageB = await b.newPage();
      await signIn(pageB, username, password);
      await devices(pageB, 2);

      await pageA.reload();
      const rows = await devices(pageA, 2);
      const mine = rows.filter({ hasText: 'This device' });
      await expect(mine.textContent()).resolves.toContain('Chrome 131 on Windows');
      const other = rows.filter({ hasNotText: 'This device' });
      await expect(other.textContent()).resolves.toContain('Firefox 133 on macOS');
      expect(await pageA.locator('#who').textContent()).toBe(username);
      await screenshot(pageA, 'account-page');

      await other.getByRole('button', { name: /^Sign out Firefox 133 on macOS/ }).click();
      await devices(pageA, 1);
      await expect(pageA.locator('#status').textContent()).resolves.toContain('Signed out Firefox 133 on macOS');
      // "Recent security activity" names what happened and the device that did it.
      const activity = pageA.locator('#activity .event');
      await activity.first().waitFor();
      expect(await activity.count()).toBe(1);
      await expect(activity.first().textContent()).resolves.toMatch(
        /Firefox 133 on macOS was signed out from the devices list.*from Chrome 131 on Windows, IP /,
      );
      await screenshot(pageA, 'security-activity');

      // B's cookies are still in its jar, but its session is revoked: the access token is refused,
      // the refresh fails, and the page shows the sign-in form.
      await pageB.reload();
      await pageB.waitForURL('**/signin');
      expect(await heading(pageB)).toBe('Sign in');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
