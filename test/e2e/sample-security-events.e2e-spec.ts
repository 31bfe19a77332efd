import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
import { login, registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';
import { decodePart } from '../support/forge.js';
import { backdateSpend } from '../support/token-rows.js';

const sidOf = (user: LoggedIn) => decodePart(user.accessToken, 1).sid as string;
const LOOPBACK = expect.stringMatching(/127\.0\.0\.1|::1/);

/**
 * GET /me/security-events, the sample's "recent security activity": what the
 * user's devices and the module did to the account's sessions, with the
 * client behind each, newest first; nothing of another account.
 */
eachDatabase('sample security events', (database) => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await startSample(database().fresh());
  });
  afterAll(async () => {
    await sample?.close();
  });

  const activity = async (user: LoggedIn) =>
    (await sample.http.get('/me/security-events').set(user.auth).expect(200)).body as {
      events: Array<Record<string, unknown>>;
      next: string | null;
    };

  it('a device signed out from the list, a logout, a password change: each is listed with the device that did it', async () => {
    const laptop = await registerAndLogin(sample.http, 'audit.ann');
    const phone = await login(sample.http, 'audit.ann', undefined, 'Phone/1');
    const tablet = await login(sample.http, 'audit.ann', undefined, 'Tablet/1');
    const other = await login(sample.http, 'audit.ann', undefined, 'Other/1');
    await sample.http
      .delete(`/auth/sessions/${sidOf(phone)}`)
      .set(laptop.auth)
      .set('User-Agent', 'Laptop/2')
      .expect(204);
    await sample.http.post('/auth/logout').set(tablet.auth).set('User-Agent', 'Tablet/2').expect(204);
    await sample.http
      .post('/auth/change-password')
      .set(laptop.auth)
      .set('User-Agent', 'Laptop/3')
      .send({ currentPassword: 'correct horse battery', newPassword: 'another horse battery' })
      .expect(204);

    const { events, next } = await activity(laptop);
    expect(next).toBeNull();
    expect(events).toEqual([
      {
        at: expect.any(String),
        type: 'session_revoked',
        reason: 'password_change',
        sessionId: sidOf(other),
        device: { userAgent: 'Other/1', ip: LOOPBACK },
        ip: LOOPBACK,
        userAgent: 'Laptop/3',
      },
      {
        at: expect.any(String),
        type: 'session_revoked',
        reason: 'logout',
        sessionId: sidOf(tablet),
        device: { userAgent: 'Tablet/1', ip: LOOPBACK },
        ip: LOOPBACK,
        userAgent: 'Tablet/2',
      },
      {
        at: expect.any(String),
        type: 'session_revoked',
        reason: 'session_revoked',
        sessionId: sidOf(phone),
        device: { userAgent: 'Phone/1', ip: LOOPBACK },
        ip: LOOPBACK,
        userAgent: 'Laptop/2',
      },
    ]);
    expect(Date.parse(events[0].at as string)).toBeGreaterThan(Date.now() - 60_000);
    // Nothing of it for another account.
    const bob = await registerAndLogin(sample.http, 'audit.bob');
    expect((await activity(bob)).events).toEqual([]);
  });

  it('refresh token reuse is listed with the client that replayed the token; logout everywhere too', async () => {
    const cat = await registerAndLogin(sample.http, 'audit.cat');
    await sample.http.post('/auth/refresh').send({ refreshToken: cat.refreshToken }).expect(200);
    await backdateSpend(sample.app, cat.refreshToken, 6_000);
    await sample.http
      .post('/auth/refresh')
      .set('User-Agent', 'Thief/1')
      .send({ refreshToken: cat.refreshToken })
      .expect(401);
    const again = await login(sample.http, 'audit.cat', undefined, 'Laptop/1');
    await sample.http.post('/auth/logout-all').set(again.auth).set('User-Agent', 'Laptop/1').expect(204);
    const now = await login(sample.http, 'audit.cat');
    expect((await activity(now)).events).toEqual([
      expect.objectContaining({
        type: 'subject_revoked',
        reason: 'logout_all',
        sessionId: null,
        userAgent: 'Laptop/1',
      }),
      expect.objectContaining({ type: 'session_revoked', reason: 'refresh_reuse', userAgent: 'Thief/1' }),
    ]);
  });

  it('pages with ?limit= and ?cursor=; a cursor or limit that is not ours is a JSON 400; no token, a 401', async () => {
    const dan = await registerAndLogin(sample.http, 'audit.dan');
    for (let i = 0; i < 3; i++) {
      const device = await login(sample.http, 'audit.dan');
      await sample.http
        .delete(`/auth/sessions/${sidOf(device)}`)
        .set(dan.auth)
        .expect(204);
    }
    const first = (await sample.http.get('/me/security-events?limit=2').set(dan.auth).expect(200)).body;
    expect(first.events).toHaveLength(2);
    expect(typeof first.next).toBe('string');
    const second = (
      await sample.http
        .get(`/me/security-events?limit=2&cursor=${encodeURIComponent(first.next)}`)
        .set(dan.auth)
        .expect(200)
    ).body;
    expect(second).toMatchObject({ next: null });
    expect(second.events).toHaveLength(1);
    for (const query of ['cursor=bogus', 'limit=0', 'limit=101', 'limit=x']) {
      const res = await sample.http.get(`/me/security-events?${query}`).set(dan.auth).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400 });
    }
    const anonymous = await sample.http.get('/me/security-events').expect(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401 });
  });
});
