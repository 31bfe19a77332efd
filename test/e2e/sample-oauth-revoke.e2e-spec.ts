import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { login, registerAndLogin, startSample } from '../support/sample-app.js';
import { expectDeadInSample, introspect, INTROSPECTION_CLIENT, refresh, sidOf } from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();

  describe('POST /oauth/revoke (RFC 7009)', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { introspectionClient: INTROSPECTION_CLIENT }));

    it('a form-encoded refresh token: 200 {}, and its whole session dies', async () => {
      const hal = await registerAndLogin(sample.http, 'rv.hal');
      const other = await login(sample.http, 'rv.hal');
      const res = await sample.http
        .post('/oauth/revoke')
        .type('form')
        .send({ token: hal.refreshToken, token_type_hint: 'refresh_token' })
        .expect(200);
      expect(res.body).toEqual({});
      await expectDeadInSample(sample, hal);
      const session = await sample.app
        .get(DataSource)
        .getRepository(jwtRevocationEntitySet().session)
        .findOneBy({ sessionId: sidOf(hal.accessToken) });
      expect(session).toMatchObject({ revokeReason: 'logout', revokedAt: expect.any(Number) });
      await sample.http.get('/me').set(other.auth).expect(200);
    });

    it('a JSON access token: 200 {}, that token dies', async () => {
      const ida = await registerAndLogin(sample.http, 'rv.ida');
      await sample.http
        .post('/oauth/revoke')
        .send({ token: ida.accessToken, token_type_hint: 'access_token' })
        .expect(200, {});
      await sample.http.get('/me').set(ida.auth).expect(401);
      expect((await introspect(sample, ida.accessToken)).body).toEqual({ active: false });
    });

    it('a wrong hint still finds the token', async () => {
      const jo = await registerAndLogin(sample.http, 'rv.jo');
      await sample.http
        .post('/oauth/revoke')
        .type('form')
        .send({ token: jo.refreshToken, token_type_hint: 'access_token' })
        .expect(200, {});
      await expectDeadInSample(sample, jo);
      const kai = await registerAndLogin(sample.http, 'rv.kai');
      await sample.http
        .post('/oauth/revoke')
        .send({ token: kai.accessToken, token_type_hint: 'refresh_token' })
        .expect(200, {});
      await sample.http.get('/me').set(kai.auth).expect(401);
    });

    it('unknown, garbage, malformed and already revoked tokens: 200 {} and nothing else is revoked', async () => {
      const lou = await registerAndLogin(sample.http, 'rv.lou');
      const gone = await login(sample.http, 'rv.lou');
      await sample.http.post('/oauth/revoke').send({ token: gone.refreshToken }).expect(200, {});
      const bodies: Array<[string, unknown]> = [
        ['json', { token: gone.refreshToken }],
        ['json', { token: gone.accessToken, token_type_hint: 'access_token' }],
        ['json', { token: 'never-issued' }],
        ['json', { token: 'a.b.c', token_type_hint: 'bogus' }],
        ['json', { token: '' }],
        ['json', { token: 42 }],
        ['json', { token: ['x'] }],
        ['json', {}],
        ['json', []],
        ['form', { token: 'x'.repeat(9000) }],
        ['form', { token: 'garbage%%', token_type_hint: 'refresh_token' }],
        ['form', {}],
      ];
      for (const [type, body] of bodies) {
        const req = sample.http.post('/oauth/revoke');
        const res = await (type === 'form'
          ? req.type('form').send(body as Record<string, string>)
          : req.send(body as object));
        expect(res.status).toBe(200);
        expect(res.body).toEqual({});
      }
      await sample.http.get('/me').set(lou.auth).expect(200);
      await refresh(sample, lou.refreshToken).expect(200);
    });
  });
});
