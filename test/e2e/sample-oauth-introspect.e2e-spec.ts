import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { bearer } from '../support/http.js';
import { login, registerAndLogin, startSample } from '../support/sample-app.js';
import { introspect, INTROSPECTION_CLIENT, refresh, SAMPLE_ISSUER, type Pair } from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';
import { refreshRowOf } from '../support/token-rows.js';

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();

  describe('POST /oauth/introspect (RFC 7662)', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { introspectionClient: INTROSPECTION_CLIENT }));

    it('needs the client credentials: 401 without, with wrong ones or a malformed header', async () => {
      const max = await registerAndLogin(sample.http, 'in.max');
      await sample.http.post('/oauth/introspect').send({ token: max.accessToken }).expect(401);
      await sample.http
        .post('/oauth/introspect')
        .auth(INTROSPECTION_CLIENT.id, 'wrong')
        .send({ token: max.accessToken })
        .expect(401);
      await sample.http
        .post('/oauth/introspect')
        .auth('someone-else', INTROSPECTION_CLIENT.secret)
        .send({ token: max.accessToken })
        .expect(401);
      await sample.http
        .post('/oauth/introspect')
        .set('Authorization', 'Basic !!!')
        .send({ token: max.accessToken })
        .expect(401);
      await sample.http
        .post('/oauth/introspect')
        .set('Authorization', `Basic ${Buffer.from('%zz:%zz').toString('base64')}`)
        .send({ token: max.accessToken })
        .expect(401);
      await sample.http.post('/oauth/introspect').set(max.auth).send({ token: max.accessToken }).expect(401);
    });

    it('active access and refresh tokens: active, sub, exp, iat, jti, token_type, sid (form-encoded or JSON, any hint)', async () => {
      const ned = await registerAndLogin(sample.http, 'in.ned');
      const me = (await sample.http.get('/me').set(ned.auth).expect(200)).body;
      const claims = decodePart(ned.accessToken, 1);
      const access = {
        active: true,
        token_type: 'access_token',
        sub: me.id,
        jti: me.jti,
        sid: me.sessionId,
        iat: claims.iat,
        exp: claims.exp,
        iss: SAMPLE_ISSUER,
      };
      expect((await introspect(sample, ned.accessToken).expect(200)).body).toEqual(access);
      expect((await introspect(sample, ned.accessToken, 'refresh_token').expect(200)).body).toEqual(access);
      const form = await sample.http
        .post('/oauth/introspect')
        .auth(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret)
        .type('form')
        .send({ token: ned.accessToken })
        .expect(200);
      expect(form.body).toEqual(access);

      const row = await refreshRowOf(sample.app, ned.refreshToken);
      const refreshAnswer = (await introspect(sample, ned.refreshToken).expect(200)).body;
      expect(refreshAnswer).toEqual({
        active: true,
        token_type: 'refresh_token',
        sub: me.id,
        // No jti for a refresh token: its row id keys the successor and stays server-side.
        sid: me.sessionId,
        iat: Math.floor(row.issuedAt / 1000),
        exp: Math.floor(row.expiresAt / 1000),
      });
      expect((await introspect(sample, ned.refreshToken, 'access_token').expect(200)).body).toEqual(refreshAnswer);
    });

    it('inactive tokens (spent, revoked, unknown, garbage) give exactly { active: false }', async () => {
      const ola = await registerAndLogin(sample.http, 'in.ola');
      const next = (await refresh(sample, ola.refreshToken).expect(200)).body as Pair;
      const gone = await login(sample.http, 'in.ola');
      await sample.http.post('/auth/logout').set(gone.auth).expect(204);
      for (const token of [
        ola.refreshToken,
        gone.accessToken,
        gone.refreshToken,
        'never-issued',
        'a.b.c',
        '',
        42,
        undefined,
      ]) {
        const res = await introspect(sample, token).expect(200);
        expect(res.body).toEqual({ active: false });
      }
      expect((await introspect(sample, next.refreshToken).expect(200)).body).toMatchObject({ active: true });
      await sample.http.post('/auth/logout-all').set(bearer(next.accessToken)).expect(204);
      expect((await introspect(sample, next.accessToken).expect(200)).body).toEqual({ active: false });
      expect((await introspect(sample, next.refreshToken).expect(200)).body).toEqual({ active: false });
    });
  });

  describe('POST /oauth/introspect, no introspection client', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { refreshReuseGrace: 0 }));

    it('POST /oauth/introspect with no client configured is 401 whatever the credentials', async () => {
      const sue = await registerAndLogin(sample.http, 'g0.sue');
      await sample.http.post('/oauth/introspect').send({ token: sue.accessToken }).expect(401);
      await introspect(sample, sue.accessToken).expect(401);
      await sample.http.post('/oauth/introspect').auth('', '').send({ token: sue.accessToken }).expect(401);
    });
  });
});
