import { expect, it } from '@jest/globals';
import { activeAndIdleDevices, browserSuite, describeInBrowser, heading, useEverySecond } from '../support/browser.js';

/** Short lifetimes, so the test can outlive them: access tokens of 2 s, sessions that end after 5 s without a request. */
const ACCESS_TTL = 2;
const IDLE_TIMEOUT = 5;

describeInBrowser('session lifetime in the browser: an active page stays signed in, an idle one is signed out', () => {
  const suite = browserSuite({ ACCESS_TOKEN_TTL: String(ACCESS_TTL), SESSION_IDLE_TIMEOUT: String(IDLE_TIMEOUT) });

  it('a page used every second stays signed in past several access-token lifetimes and the idle timeout; one left idle lands on the sign-in page', async () => {
    const { busy, quiet, close } = await activeAndIdleDevices(suite, 'life');
    try {
      // 8 s of use, one page load a second: four access tokens' lifetimes, past the idle timeout.
      await useEverySecond(busy, 8000);

      // The other device made no request for those 8 s: its session is past the idle timeout,
      // its refresh is refused, and its next page load shows the sign-in form.
      await quiet.reload();
      await quiet.waitForURL('**/signin');
      expect(await heading(quiet)).toBe('Sign in');

      await busy.reload();
      await busy.waitForURL('**/account');
      expect(await heading(busy)).toBe('Your devices');
    } finally {
      await close();
    }
  }, 60_000);
});
