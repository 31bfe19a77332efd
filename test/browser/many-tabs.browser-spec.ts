import { expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { browserSuite, describeInBrowser, devices, newDevice, signUp } from '../support/browser.js';
import { sleep } from '../support/time.js';

/** Seconds an access token lives here: the test waits it out. */
const ACCESS_TTL = 2;

describeInBrowser("many tabs, one cookie jar: refreshes racing at the access token's expiry", () => {
  const suite = browserSuite({ ACCESS_TOKEN_TTL: String(ACCESS_TTL) });

  it('two tabs reloading and a page firing ten refreshes at once all stay signed in, on one session', async () => {
    const context = await newDevice(suite);
    try {
      const tab1 = await context.newPage();
      await signUp(tab1, `tabs_${randomBytes(4).toString('hex')}`, 'many tabs password');
      const tab2 = await context.newPage();
      await tab2.goto('/account');
      await devices(tab2, 1);
      // A third page of the same origin for a burst of requests of its own: the sign-in view, whose
      // script sends nothing, and whose CSP lets the page fetch from its origin.
      const burst = await context.newPage();
      await burst.goto('/signin');
      const before = await context.cookies();

      // The access cookie's Max-Age runs out: every request below reaches the server without
      // it, and every one of them refreshes with the same refresh cookie.
      await sleep(ACCESS_TTL * 1000 + 300);
      const [statuses] = await Promise.all([
        burst.evaluate(() =>
          Promise.all(
            Array.from({ length: 10 }, async () => {
              const refreshed = await fetch('/auth/refresh', {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{}',
              });
              const me = await fetch('/me');
              return [refreshed.status, me.status];
            }),
          ),
        ),
        tab1.reload(),
        tab2.reload(),
      ]);
      expect(statuses).toEqual(Array.from({ length: 10 }, () => [200, 200]));

      // Both tabs still show the account, and the jar holds one pair: no racer cleared or overwrote it with another.
      for (const tab of [tab1, tab2]) {
        await tab.waitForURL('**/account');
        await devices(tab, 1);
      }
      const after = await context.cookies();
      expect(after.map((c) => c.name).sort()).toEqual(before.map((c) => c.name).sort());
      for (const cookie of after) expect(cookie.value).not.toBe('');
      const refreshName = before.find((c) => c.path !== '/')!.name;
      expect(after.find((c) => c.name === refreshName)!.value).not.toBe(
        before.find((c) => c.name === refreshName)!.value,
      );

      // One session in the log, as the server counts it.
      const sessions = await burst.evaluate(async () => (await (await fetch('/auth/sessions')).json()) as unknown);
      expect((sessions as { sessions: unknown[] }).sessions).toHaveLength(1);
    } finally {
      await context.close();
    }
  }, 60_000);
});
