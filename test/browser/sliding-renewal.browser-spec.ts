import { expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { BrowserContext } from 'playwright-core';
import {
  activeAndIdleDevices,
  browserSuite,
  describeInBrowser,
  devices,
  heading,
  newDevice,
  signUp,
  useEverySecond,
} from '../support/browser.js';
import { sleep } from '../support/time.js';

/**
 * Access tokens of 4 s, renewed from 2 s before their exp; a session ends
 * after 5 s without a request. The sample's default threshold is a third of
 * the lifetime: here it is set, so a token is due halfway through its life.
 */
const ACCESS_TTL = 4;
const THRESHOLD = 2;
const IDLE_TIMEOUT = 5;

/** The access cookie's value in the device's jar (the one on Path=/). */
async function accessCookie(device: BrowserContext): Promise<string | undefined> {
  return (await device.cookies()).find((c) => c.path === '/')?.value;
}

/** Counts the requests a device sends to POST /auth/refresh. */
function countRefreshes(device: BrowserContext): { count: number } {
  const seen = { count: 0 };
  device.on('request', (request) => {
    if (new URL(request.url()).pathname === '/auth/refresh') seen.count++;
  });
  return seen;
}

describeInBrowser(
  'sliding renewal in the browser: an active page gets new access cookies, an idle one is signed out',
  () => {
    const suite = browserSuite({
      ACCESS_TOKEN_TTL: String(ACCESS_TTL),
      RENEWAL_THRESHOLD: String(THRESHOLD),
      SESSION_IDLE_TIMEOUT: String(IDLE_TIMEOUT),
    });

    it('a page used every second stays signed in past several access-token lifetimes without one refresh; one left idle lands on the sign-in page', async () => {
      const { active, busy, quiet, close } = await activeAndIdleDevices(suite, 'slide');
      try {
        const refreshes = countRefreshes(active);
        const tokens = new Set([await accessCookie(active)]);

        // 10 s of use, one page load a second: two and a half access-token lifetimes, twice the idle timeout.
        await useEverySecond(busy, 10_000, async () => {
          tokens.add(await accessCookie(active));
        });
        // Each token was replaced before it ran out, by the answer to a request: no refresh was needed.
        expect(refreshes.count).toBe(0);
        expect(tokens.size).toBeGreaterThanOrEqual(3);
        expect(tokens.has(undefined)).toBe(false);

        // The other device made no request meanwhile: its access cookie ran out, its refresh is
        // refused (idle past the timeout), and its next page load shows the sign-in form.
        await quiet.reload();
        await quiet.waitForURL('**/signin');
        expect(await heading(quiet)).toBe('Sign in');

        // The active device lists itself alone: the idle session is over.
        await busy.reload();
        await busy.waitForURL('**/account');
        await devices(busy, 1);
      } finally {
        await close();
      }
    }, 60_000);

    it('ten requests at once with a due token all succeed, and the jar gets one new access token', async () => {
      const device = await newDevice(suite);
      try {
        const page = await device.newPage();
        await signUp(page, `fan_${randomBytes(4).toString('hex')}`, 'fan out password');
        const refreshes = countRefreshes(device);
        const before = await accessCookie(device);
        // Due, not expired: within the threshold of its exp.
        await sleep((ACCESS_TTL - THRESHOLD) * 1000 + 300);
        const handed: Array<Promise<string | null>> = [];
        page.on('response', (response) => {
          if (new URL(response.url()).pathname === '/me') handed.push(response.headerValue('set-cookie'));
        });
        const statuses = await page.evaluate(() =>
          Promise.all(Array.from({ length: 10 }, async () => (await fetch('/me')).status)),
        );
        expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
        const after = await accessCookie(device);
        expect(after).toBeDefined();
        expect(after).not.toBe(before);
        expect(refreshes.count).toBe(0);
        // Every answer that set a cookie set that one token: the racers were handed the same renewal.
        const set = (await Promise.all(handed)).filter((value): value is string => value !== null);
        expect(set.length).toBeGreaterThan(0);
        for (const value of set) expect(value).toContain(`=${after};`);

        // A request with it now is not due, and changes nothing.
        expect(await page.evaluate(async () => (await fetch('/me')).status)).toBe(200);
        expect(await accessCookie(device)).toBe(after);
        await page.reload();
        await devices(page, 1);
      } finally {
        await device.close();
      }
    }, 60_000);
  },
);
