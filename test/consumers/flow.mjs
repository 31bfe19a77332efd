// The HTTP flow every consumer app must pass, against the README's minimal app.
import assert from 'node:assert/strict';

async function call(base, method, path, { token, body, raw } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

function expectStatus(response, status, what) {
  assert.equal(response.status, status, `${what}: expected ${status}, got ${response.status} ${response.text}`);
}

/** A 4xx that says why, as JSON, the way Nest answers. */
function expectJsonError(response, status, what) {
  expectStatus(response, status, what);
  assert.equal(response.json?.statusCode, status, `${what}: the body is not Nest's JSON error: ${response.text}`);
}

async function login(base, password) {
  const response = await call(base, 'POST', '/login', { body: { username: 'demo', password } });
  expectStatus(response, 200, 'POST /login');
  assert.equal(typeof response.json.accessToken, 'string', 'login returns an access token');
  assert.equal(typeof response.json.refreshToken, 'string', 'login returns a refresh token');
  return response.json;
}

/** Waits until the app answers (a 401 on /me: it is up and the guard is on). */
export async function waitUntilUp(base, exited) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('the app exited before it answered');
    try {
      const response = await call(base, 'GET', '/me');
      if (response.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the app did not answer within 60 s');
}

/**
 * login, GET /me, @Logout, the 401 and its WWW-Authenticate, refresh,
 * @LogoutAll, bad input. Returns tokens to check again after a restart.
 */
export async function runFlow(base, password) {
  const anonymous = await call(base, 'GET', '/me');
  expectJsonError(anonymous, 401, 'GET /me without a token');
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/, 'a 401 carries WWW-Authenticate: Bearer');

  expectJsonError(
    await call(base, 'POST', '/login', { body: { username: 'demo', password: `${password}x` } }),
    401,
    'a wrong password',
  );

  // Login, /me, @Logout: the token dies, and so does its session's refresh token.
  const first = await login(base, password);
  const me = await call(base, 'GET', '/me', { token: first.accessToken });
  expectStatus(me, 200, 'GET /me with the token');
  assert.equal(me.json.user, 'user-1');
  assert.equal(me.json.session, first.sessionId);
  expectStatus(await call(base, 'POST', '/logout', { token: first.accessToken }), 204, 'POST /logout');
  const afterLogout = await call(base, 'GET', '/me', { token: first.accessToken });
  expectJsonError(afterLogout, 401, 'GET /me after @Logout()');
  assert.equal(afterLogout.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  expectJsonError(
    await call(base, 'POST', '/refresh', { body: { refreshToken: first.refreshToken } }),
    401,
    "refresh with a logged-out session's token",
  );

  // Refresh: a new pair in the same session; the new access token works.
  const second = await login(base, password);
  const renewed = await call(base, 'POST', '/refresh', { body: { refreshToken: second.refreshToken } });
  expectStatus(renewed, 200, 'POST /refresh');
  assert.notEqual(renewed.json.accessToken, second.accessToken);
  assert.equal(renewed.json.sessionId, second.sessionId, 'refresh keeps the session');
  expectStatus(await call(base, 'GET', '/me', { token: renewed.json.accessToken }), 200, 'GET /me after refresh');

  // @LogoutAll: every session of the user dies, the other device's too.
  const phone = await login(base, password);
  const laptop = await login(base, password);
  expectStatus(await call(base, 'POST', '/logout-all', { token: phone.accessToken }), 204, 'POST /logout-all');
  for (const [name, token] of [
    ['phone', phone.accessToken],
    ['laptop', laptop.accessToken],
    ['refreshed', renewed.json.accessToken],
  ]) {
    expectJsonError(await call(base, 'GET', '/me', { token }), 401, `GET /me (${name}) after @LogoutAll()`);
  }
  expectJsonError(
    await call(base, 'POST', '/refresh', { body: { refreshToken: laptop.refreshToken } }),
    401,
    'refresh after @LogoutAll()',
  );

  // Bad input: a JSON error, never a 500.
  expectJsonError(await call(base, 'POST', '/refresh', { body: {} }), 401, 'refresh without a token');
  expectJsonError(await call(base, 'POST', '/refresh', { raw: '{"refreshToken":' }), 400, 'a malformed JSON body');
  expectJsonError(await call(base, 'GET', '/me', { token: 'not.a.jwt' }), 401, 'a malformed token');

  // Kept for after the restart: one dead token, one live session.
  const live = await login(base, password);
  return { dead: [first.accessToken, laptop.accessToken], live: live.accessToken };
}

/** After a restart on the same database: the dead stay dead, the live one still works. */
export async function checkAfterRestart(base, { dead, live }) {
  for (const token of dead) {
    expectJsonError(await call(base, 'GET', '/me', { token }), 401, 'a revoked token after a restart');
  }
  expectStatus(await call(base, 'GET', '/me', { token: live }), 200, 'a live token after a restart');
}
