import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ACCESS, REFRESH, setCookiesOf } from '../support/cookie-app.js';
import { tempSqliteDatabase } from '../support/databases.js';
import { startSample, type RunningSample } from '../support/sample-app.js';

/**
 * The sample's browser sign-in: `"session": "cookie"` puts the tokens in
 * HttpOnly cookies, the refresh cookie refreshes, logout clears them, and
 * unsafe requests from another origin are refused. HTTP-level, on SQLite: the
 * stores behind it are the ones the storage suites run on every database.
 * test/browser runs the same flows in Chromium.
 */
const ORIGIN = { 'Sec-Fetch-Site': 'same-origin' };

interface Cookie {
  value: string;
  attributes: string[];
}

/** The Set-Cookie headers of a response, by cookie name, each attribute apart (test/support/cookie-app.ts parses them). */
function setCookies(headers: Record<string, unknown>): Map<string, Cookie> {
  return new Map(
    setCookiesOf({ headers }).map((c) => [c.name, { value: c.value, attributes: c.attributes.split(/;\s*/) }]),
  );
}

const jar = (cookies: Map<string, Cookie>) => [...cookies].map(([name, c]) => `${name}=${c.value}`).join('; ');

describe('sample: signing in with cookies', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase());
  });
  afterAll(() => sample.close());

  let n = 0;
  async function signIn(headers: Record<string, string> = {}): Promise<Map<string, Cookie>> {
    const credentials = { username: `cookie.${++n}.${Date.now()}`, password: 'cookie password' };
    await sample.http.post('/auth/register').send(credentials).expect(201);
    const res = await sample.http
      .post('/auth/login')
      .set({ ...ORIGIN, ...headers })
      .send({ ...credentials, session: 'cookie' })
      .expect(200);
    return setCookies(res.headers);
  }

  it('"session": "cookie": both tokens in HttpOnly cookies, none in the body', async () => {
    const credentials = { username: `cookie.body.${Date.now()}`, password: 'cookie password' };
    await sample.http.post('/auth/register').send(credentials).expect(201);
    const res = await sample.http
      .post('/auth/login')
      .set(ORIGIN)
      .send({ ...credentials, session: 'cookie' })
      .expect(200);
    expect(res.body).toEqual({ tokenType: 'cookie', expiresIn: 900 });
    const cookies = setCookies(res.headers);
    expect([...cookies.keys()].sort()).toEqual([ACCESS, REFRESH]);
    expect(cookies.get(ACCESS)!.attributes).toEqual(
      expect.arrayContaining(['Path=/', 'Max-Age=900', 'HttpOnly', 'Secure', 'SameSite=Lax']),
    );
    expect(cookies.get(REFRESH)!.attributes).toEqual(
      expect.arrayContaining(['Path=/auth/refresh', 'HttpOnly', 'Secure', 'SameSite=Lax']),
    );
    // The refresh token's lifetime left, in whole seconds: a day, or a second under it.
    const maxAge = cookies.get(REFRESH)!.attributes.find((a) => a.startsWith('Max-Age='));
    expect(['Max-Age=86400', 'Max-Age=86399']).toContain(maxAge);
    await sample.http.get('/me').set('Cookie', jar(cookies)).expect(200);
  });

  it('API clients are unchanged: without "session", the tokens come in the body and no cookie is set', async () => {
    const credentials = { username: `cookie.api.${Date.now()}`, password: 'cookie password' };
    await sample.http.post('/auth/register').send(credentials).expect(201);
    const res = await sample.http.post('/auth/login').send(credentials).expect(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('"session" other than "cookie" is a 400', async () => {
    const res = await sample.http.post('/auth/login').send({ username: 'x', password: 'y', session: 'tokens' });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('session must be "cookie" when given');
  });

  it('the refresh cookie refreshes: new cookies, no tokens in the body; a retry within the grace gets the same pair', async () => {
    const cookies = await signIn();
    const refresh = `${REFRESH}=${cookies.get(REFRESH)!.value}`;
    const first = await sample.http.post('/auth/refresh').set(ORIGIN).set('Cookie', refresh).send({}).expect(200);
    expect(first.body).toEqual({ tokenType: 'cookie', expiresIn: 900 });
    const renewed = setCookies(first.headers);
    expect(renewed.get(REFRESH)!.value).not.toBe(cookies.get(REFRESH)!.value);
    const retry = await sample.http.post('/auth/refresh').set(ORIGIN).set('Cookie', refresh).expect(200);
    expect(setCookies(retry.headers).get(REFRESH)!.value).toBe(renewed.get(REFRESH)!.value);
    await sample.http.get('/me').set('Cookie', jar(renewed)).expect(200);
  });

  it('a refresh with neither a token nor a refresh cookie is a 400 naming the field, and sets nothing', async () => {
    const res = await sample.http.post('/auth/refresh').set(ORIGIN).send({});
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('refreshToken must be a string');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('logout clears both cookies, and the access token in them is dead', async () => {
    const cookies = await signIn();
    const res = await sample.http.post('/auth/logout').set(ORIGIN).set('Cookie', jar(cookies)).expect(204);
    const cleared = setCookies(res.headers);
    expect(cleared.get(ACCESS)).toMatchObject({ value: '', attributes: expect.arrayContaining(['Max-Age=0']) });
    expect(cleared.get(REFRESH)).toMatchObject({
      value: '',
      attributes: expect.arrayContaining(['Max-Age=0', 'Path=/auth/refresh']),
    });
    await sample.http.get('/me').set('Cookie', jar(cookies)).expect(401);
  });

  it('DELETE /me (delete account) clears both cookies', async () => {
    const cookies = await signIn();
    const res = await sample.http.delete('/me').set(ORIGIN).set('Cookie', jar(cookies)).expect(204);
    const cleared = setCookies(res.headers);
    expect([...cleared.keys()].sort()).toEqual([ACCESS, REFRESH]);
    for (const cookie of cleared.values())
      expect(cookie).toMatchObject({ value: '', attributes: expect.arrayContaining(['Max-Age=0']) });
    await sample.http.get('/me').set('Cookie', jar(cookies)).expect(401);
  });

  it('POST /auth/logout-others: every other session of the user is signed out, this one lives on', async () => {
    const credentials = { username: `cookie.others.${Date.now()}`, password: 'cookie password' };
    await sample.http.post('/auth/register').send(credentials).expect(201);
    const signInOnce = async () =>
      setCookies(
        (
          await sample.http
            .post('/auth/login')
            .set(ORIGIN)
            .send({ ...credentials, session: 'cookie' })
            .expect(200)
        ).headers,
      );
    const [here, phone, laptop] = [await signInOnce(), await signInOnce(), await signInOnce()];
    await sample.http.post('/auth/logout-others').set(ORIGIN).set('Cookie', jar(here)).expect(204);
    await sample.http.get('/me').set('Cookie', jar(here)).expect(200);
    for (const other of [phone, laptop]) await sample.http.get('/me').set('Cookie', jar(other)).expect(401);
    const sessions = await sample.http.get('/auth/sessions').set('Cookie', jar(here)).expect(200);
    expect(sessions.body.sessions).toHaveLength(1);
  });

  describe('requests another origin may have sent', () => {
    it('an unsafe request with the cookies and Sec-Fetch-Site cross-site or same-site is a 403, and changes nothing', async () => {
      const cookies = await signIn();
      for (const site of ['cross-site', 'same-site']) {
        const res = await sample.http
          .post('/auth/logout-all')
          .set('Sec-Fetch-Site', site)
          .set('Origin', 'https://evil.example')
          .set('Cookie', jar(cookies));
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ statusCode: 403 });
      }
      await sample.http.get('/me').set('Cookie', jar(cookies)).expect(200);
    });

    it('a login posted from another origin (login forgery: no cookie needed) is a 403', async () => {
      const res = await sample.http
        .post('/auth/login')
        .set('Origin', 'https://evil.example')
        .send({ username: 'anyone', password: 'anything', session: 'cookie' });
      expect(res.status).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('a cross-site GET is not refused (a link is not a forgery; SameSite decides what it carries)', async () => {
      const cookies = await signIn();
      await sample.http.get('/me').set('Sec-Fetch-Site', 'cross-site').set('Cookie', jar(cookies)).expect(200);
    });
  });
});

describe('sample: the account pages', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase());
  });
  afterAll(() => sample.close());

  it('GET /, /signin, /signup and /account serve the page without a token, under a CSP that allows only its own script and style', async () => {
    for (const path of ['/', '/signin', '/signup', '/account']) {
      const res = await sample.http.get(path).expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<script type="module" src="/assets/app.js"></script>');
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      );
    }
  });

  it('the script and the style are served with their types; no inline script in the page', async () => {
    const script = await sample.http.get('/assets/app.js').expect(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.text).toContain("session: 'cookie'");
    const style = await sample.http.get('/assets/app.css').expect(200);
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    const page = await sample.http.get('/').expect(200);
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(page.text).not.toMatch(/\son[a-z]+=/);
  });

  it('other paths are not pages: /assets/../package.json and friends are 404 or 401, never a file', async () => {
    for (const path of ['/assets/../package.json', '/assets/index.html', '/sample/web/public/app.js']) {
      const res = await sample.http.get(path);
      expect([401, 404]).toContain(res.status);
      expect(res.text).not.toContain('"name": "nestjs-jwt-revocation"');
    }
  });
});
