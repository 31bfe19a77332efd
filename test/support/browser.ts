import { afterAll, beforeAll, describe } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startSampleProcess, type SampleProcess } from '../../bench/sample-process.js';
import { tempSqliteFile } from './databases.js';
import { TEST_SECRET } from './keys.js';

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
/** Screenshots the browser tests take: kept after the run (ignored by git). */
export const ARTIFACTS = join(ROOT, 'reports', 'browser');

/**
 * A describe that drives a real Chromium. Without one: a failure in CI (it
 * must run there), elsewhere a loud skip naming what to install.
 */
export function describeInBrowser(title: string, suite: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(title, suite);
  } else if (process.env.CI) {
    throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs it (apt-get install -y chromium)`);
  } else {
    console.warn(
      `\n*** SKIPPED: "${title}": no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH). ***\n`,
    );
    describe.skip(`${title} (SKIPPED: no Chromium at ${CHROMIUM})`, suite);
  }
}

export interface BrowserSuite {
  browser: Browser;
  sample: SampleProcess;
  /** The sample as a browser reaches it: http://localhost:<port>, a secure context, so Secure cookies work over HTTP. */
  origin: string;
}

/**
 * The built sample (`npm run build:sample`) in its own process on a new
 * SQLite file, and one Chromium, for the suite. `env` goes to the sample.
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  const suite = {} as BrowserSuite;
  beforeAll(async () => {
    suite.sample = await startSampleProcess(
      { JWT_SECRET: TEST_SECRET, DATABASE_URL: `sqlite:${tempSqliteFile('browser-')}`, ...env },
      ROOT,
    );
    suite.origin = suite.sample.url.replace('127.0.0.1', 'localhost');
    // --no-sandbox: CI runs as root, where Chromium's sandbox will not start.
    suite.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.sample?.stop();
  });
  return suite;
}

/** A new browser profile: its own cookie jar, as another device would have. */
export async function newDevice(suite: BrowserSuite, userAgent?: string): Promise<BrowserContext> {
  return suite.browser.newContext({ baseURL: suite.origin, userAgent });
}

/** The heading of the view the page shows. */
export const heading = (page: Page) => page.locator('main section:not([hidden]) h1').textContent();

/** Fills and sends the form of a view, as a person would: by its labels, once the view shows. */
async function submit(page: Page, path: string, button: string, username: string, password: string): Promise<void> {
  await page.goto(path);
  const view = page.locator('main section:not([hidden])');
  await view.getByLabel('Username').fill(username);
  await view.getByLabel('Password', { exact: true }).fill(password);
  await view.getByRole('button', { name: button }).click();
  await page.waitForURL('**/account');
  await page.locator('#devices li[data-current="true"]').waitFor();
}

export const signUp = (page: Page, username: string, password: string) =>
  submit(page, '/signup', 'Create account', username, password);

export const signIn = (page: Page, username: string, password: string) =>
  submit(page, '/signin', 'Sign in', username, password);

/** The rows of "your devices" once the list has `count` of them. */
export async function devices(page: Page, count: number) {
  const rows = page.locator('#devices li');
  // Polled from here: the page's CSP (rightly) forbids the string evaluation waitForFunction would need.
  const deadline = Date.now() + 10_000;
  while ((await rows.count()) !== count) {
    if (Date.now() > deadline) throw new Error(`"your devices" lists ${await rows.count()} devices, not ${count}`);
    await page.waitForTimeout(50);
  }
  return rows;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Another origin (another port of localhost: same site, other origin) serving one page: an attacker's. */
export async function otherOrigin(html: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html);
  });
  // Every interface: the browser may reach localhost over ::1 or 127.0.0.1.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://localhost:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One user signed up on one device (`busy`, to be used) and signed in on another (`quiet`, to be left idle). */
export async function activeAndIdleDevices(suite: BrowserSuite, tag: string) {
  const username = `${tag}_${randomBytes(4).toString('hex')}`;
  const password = `${tag} password`;
  const active = await newDevice(suite);
  const idle = await newDevice(suite);
  const busy = await active.newPage();
  await signUp(busy, username, password);
  const quiet = await idle.newPage();
  await signIn(quiet, username, password);
  return { active, idle, busy, quiet, close: () => Promise.all([active.close(), idle.close()]) };
}

/** Reloads the account page once a second for `ms`, as a person using it would; `each` runs after every load. */
export async function useEverySecond(
  page: Page,
  ms: number,
  each: () => Promise<void> = async () => {},
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await page.reload();
    await page.waitForURL('**/account');
    await page.locator('#devices li[data-current="true"]').waitFor();
    await each();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
