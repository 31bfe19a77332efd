import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { CHALLENGE, MISSING } from '../support/http.js';
import { testLogs } from '../support/logs.js';
import { login, registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';
import { REUSE_ALARM } from '../support/sample-tokens.js';
import { backdateSpend } from '../support/token-rows.js';

// The rotation test reuses a refresh token on purpose: the sample's alarm goes off.
testLogs.expect(REUSE_ALARM);

eachDatabase('sample app HTTP contract', (database) => {
  let db: TestDatabase;
  let sample: RunningSample;

  beforeAll(async () => {
    db = database();
    sample = await startSample(db.fresh());
  });
  afterAll(async () => {
    await sample?.close();
  });

  describe('register and login', () => {
    it('registers, refuses a taken name with 409 and a bad body with 400', async () => {
      const res = await sample.http
        .post('/auth/register')
        .send({ username: 'reg.user', password: 'long enough pw' })
        .expect(201);
      expect(res.body).toEqual({ id: expect.any(String), username: 'reg.user' });
      const taken = await sample.http
        .post('/auth/register')
        .send({ username: 'reg.user', password: 'long enough pw' })
        .expect(409);
      expect(taken.body).toMatchObject({ statusCode: 409, message: expect.any(String) });
      for (const body of [
        {},
        { username: 'x', password: 'long enough pw' },
        { username: 'ok_name', password: 'short' },
        { username: 5, password: 'long enough pw' },
        [],
      ]) {
        const bad = await sample.http.post('/auth/register').send(body).expect(400);
        expect(bad.body).toMatchObject({ statusCode: 400, message: expect.any(String) });
      }
    });

    it('answers malformed JSON with a 400 JSON body', async () => {
      const res = await sample.http
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"username":')
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400 });
    });

    it('logs in with the right password and refuses a wrong one or an unknown user with 401', async () => {
      await sample.http.post('/auth/register').send({ username: 'login.user', password: 'right password' }).expect(201);
      const ok = await sample.http
        .post('/auth/login')
        .send({ username: 'login.user', password: 'right password' })
        .expect(200);
      expect(ok.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      await sample.http.post('/auth/login').send({ username: 'login.user', password: 'wrong password' }).expect(401);
      await sample.http.post('/auth/login').send({ username: 'nobody.here', password: 'right password' }).expect(401);
    });
  });

  describe('GET /me', () => {
    it('returns the caller with session and jti, and 401 without a token', async () => {
      const alice = await registerAndLogin(sample.http, 'me.alice');
      const res = await sample.http.get('/me').set(alice.auth).expect(200);
      expect(res.body).toEqual({
        id: expect.any(String),
        username: 'me.alice',
        sessionId: expect.any(String),
        jti: expect.any(String),
      });
      const none = await sample.http.get('/me').expect(401);
      expect(none.headers['www-authenticate']).toBe(CHALLENGE);
      expect(none.body).toEqual(MISSING);
      await sample.http.get('/me').set('Authorization', 'Bearer not-a-jwt').expect(401);
    });
  });

  describe('logout', () => {
    it('kills that session only: its access and refresh tokens die, the other session lives', async () => {
      const phone = await registerAndLogin(sample.http, 'logout.bob');
      const laptop = await login(sample.http, 'logout.bob');
      await sample.http.post('/auth/logout').set(phone.auth).expect(204);
      await sample.http.get('/me').set(phone.auth).expect(401);
      await sample.http.post('/auth/refresh').send({ refreshToken: phone.refreshToken }).expect(401);
      await sample.http.get('/me').set(laptop.auth).expect(200);
      await sample.http.post('/auth/logout').set(phone.auth).expect(401);
    });

    it('logout-all kills every token of the user, and a new login works at once', async () => {
      const a = await registerAndLogin(sample.http, 'logout.carol');
      const b = await login(sample.http, 'logout.carol');
      await sample.http.post('/auth/logout-all').set(a.auth).expect(204);
      await sample.http.get('/me').set(a.auth).expect(401);
      await sample.http.get('/me').set(b.auth).expect(401);
      await sample.http.post('/auth/refresh').send({ refreshToken: b.refreshToken }).expect(401);
      // Same second as the cutoff: the new token must still work.
      const again = await login(sample.http, 'logout.carol');
      await sample.http.get('/me').set(again.auth).expect(200);
    });
  });

  describe('refresh', () => {
    it('rotates: the new pair works; a token spent before the grace window is reuse and kills the session', async () => {
      const dave = await registerAndLogin(sample.http, 'refresh.dave');
      const res = await sample.http.post('/auth/refresh').send({ refreshToken: dave.refreshToken }).expect(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      await sample.http.get('/me').set('Authorization', `Bearer ${res.body.accessToken}`).expect(200);
      const third = await sample.http.post('/auth/refresh').send({ refreshToken: res.body.refreshToken }).expect(200);
      await backdateSpend(sample.app, dave.refreshToken, 6_000);
      await sample.http.post('/auth/refresh').send({ refreshToken: dave.refreshToken }).expect(401);
      await sample.http.get('/me').set('Authorization', `Bearer ${third.body.accessToken}`).expect(401);
      await sample.http.post('/auth/refresh').send({ refreshToken: third.body.refreshToken }).expect(401);
      await sample.http.post('/auth/refresh').send({ refreshToken: 'unknown-token' }).expect(401);
      await sample.http.post('/auth/refresh').send({}).expect(400);
      // An access token is not a refresh token.
      await sample.http.post('/auth/refresh').send({ refreshToken: dave.accessToken }).expect(401);
    });
  });

  describe('change-password', () => {
    it('kills every other session, keeps the current one, and the new password works', async () => {
      const here = await registerAndLogin(sample.http, 'pw.erin', 'old password 1');
      const there = await login(sample.http, 'pw.erin', 'old password 1');
      await sample.http
        .post('/auth/change-password')
        .set(here.auth)
        .send({ currentPassword: 'wrong one', newPassword: 'new password 2' })
        .expect(403);
      await sample.http.get('/me').set(there.auth).expect(200);
      await sample.http
        .post('/auth/change-password')
        .set(here.auth)
        .send({ currentPassword: 'old password 1', newPassword: 'new password 2' })
        .expect(204);
      await sample.http.get('/me').set(there.auth).expect(401);
      await sample.http.post('/auth/refresh').send({ refreshToken: there.refreshToken }).expect(401);
      await sample.http.get('/me').set(here.auth).expect(200);
      await sample.http.post('/auth/login').send({ username: 'pw.erin', password: 'old password 1' }).expect(401);
      await login(sample.http, 'pw.erin', 'new password 2');
      await sample.http
        .post('/auth/change-password')
        .set(here.auth)
        .send({ currentPassword: 'new password 2' })
        .expect(400);
    });
  });

  describe('sessions', () => {
    it('lists the caller’s sessions with device data and revokes one by id', async () => {
      const one = await registerAndLogin(sample.http, 'sess.frank');
      const two = await login(sample.http, 'sess.frank', undefined, 'OtherBrowser/2.0');
      const list = await sample.http.get('/auth/sessions').set(one.auth).expect(200);
      expect(list.body.next).toBeNull();
      expect(list.body.sessions).toHaveLength(2);
      for (const s of list.body.sessions) {
        expect(s).toEqual({
          id: expect.any(String),
          createdAt: expect.any(String),
          lastSeenAt: expect.any(String),
          userAgent: expect.any(String),
          ip: expect.any(String),
          current: expect.any(Boolean),
        });
      }
      expect(list.body.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
      const other = list.body.sessions.find((s: { current: boolean }) => !s.current);
      expect(other.userAgent).toBe('OtherBrowser/2.0');

      const stranger = await registerAndLogin(sample.http, 'sess.grace');
      await sample.http.delete(`/auth/sessions/${other.id}`).set(stranger.auth).expect(404);
      await sample.http.get('/me').set(two.auth).expect(200);
      await sample.http.delete('/auth/sessions/does-not-exist').set(one.auth).expect(404);

      await sample.http.delete(`/auth/sessions/${other.id}`).set(one.auth).expect(204);
      await sample.http.get('/me').set(two.auth).expect(401);
      await sample.http.get('/me').set(one.auth).expect(200);
      const after = await sample.http.get('/auth/sessions').set(one.auth).expect(200);
      expect(after.body.sessions.map((s: { id: string }) => s.id)).not.toContain(other.id);
    });
  });

  describe('DELETE /me', () => {
    it('deletes the account and kills all its tokens', async () => {
      const a = await registerAndLogin(sample.http, 'del.heidi');
      const b = await login(sample.http, 'del.heidi');
      await sample.http.delete('/me').set(a.auth).expect(204);
      await sample.http.get('/me').set(a.auth).expect(401);
      await sample.http.get('/me').set(b.auth).expect(401);
      await sample.http.post('/auth/refresh').send({ refreshToken: b.refreshToken }).expect(401);
      await sample.http
        .post('/auth/login')
        .send({ username: 'del.heidi', password: 'correct horse battery' })
        .expect(401);
    });
  });

  describe('restart', () => {
    it('a revocation survives a restart on the same database', async () => {
      const ivan = await registerAndLogin(sample.http, 'restart.ivan');
      const judy = await registerAndLogin(sample.http, 'restart.judy');
      const kept = await login(sample.http, 'restart.ivan');
      await sample.http.post('/auth/logout').set(ivan.auth).expect(204);
      await sample.http.post('/auth/logout-all').set(judy.auth).expect(204);
      await sample.close();

      sample = await startSample(db.reopen());
      await sample.http.get('/me').set(ivan.auth).expect(401);
      await sample.http.get('/me').set(judy.auth).expect(401);
      await sample.http.get('/me').set(kept.auth).expect(200);
    });
  });
});
