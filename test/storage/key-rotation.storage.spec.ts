import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { KeyRing, type IssuedTokens, type SigningKeyOptions } from 'nestjs-jwt-revocation';
import request from 'supertest';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { decodePart, forge } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { INVALID } from '../support/http.js';
import { keyPair } from '../support/keys.js';
import { bootProbeApp, expectOnePair, probe } from '../support/probe-app.js';
import { liveRefreshRows } from '../support/token-rows.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('key rotation', () => {
    const ec = keyPair('ES256');
    const rsa = keyPair('RS256');
    const hmac = 'rotation-hmac-secret-that-is-32-bytes-or-more';
    const OLD: SigningKeyOptions = { kid: 'k-old', algorithm: 'ES256', privateKey: ec.privateKey };
    const NEW: SigningKeyOptions = { kid: 'k-new', algorithm: 'RS256', privateKey: rsa.privateKey };
    const HMAC: SigningKeyOptions = { kid: 'k-hmac', secret: hmac };

    it('new tokens are signed with the current key and name its kid; `current` picks it', async () => {
      const app = await bootProbeApp(db.fresh(), { signing: { keys: [HMAC, OLD], current: 'k-old' } });
      try {
        const tokens = tokensOf(app);
        const pair = await tokens.issue('kid.uma');
        expect(decodePart(pair.accessToken, 0)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k-old' });
        expect(await probe(app, pair.accessToken)).toBe(200);
        const next = await tokens.refresh(pair.refreshToken);
        expect(decodePart(next.accessToken, 0)).toMatchObject({ alg: 'ES256', kid: 'k-old' });
        expect(await probe(app, next.accessToken)).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('after a restart with [new, old]: old tokens work, new ones use the new kid; retire(old) kills old tokens at once', async () => {
      const before = await bootProbeApp(db.fresh(), { signing: { keys: [OLD] } });
      let oldPair: IssuedTokens;
      let oldPair2: IssuedTokens;
      try {
        oldPair = await tokensOf(before).issue('kid.vic');
        oldPair2 = await tokensOf(before).issue('kid.vic');
        expect(decodePart(oldPair.accessToken, 0)).toMatchObject({ kid: 'k-old' });
      } finally {
        await before.close();
      }

      const app = await bootProbeApp(db.reopen(), { signing: { keys: [NEW, OLD] } });
      try {
        const tokens = tokensOf(app);
        expect(await probe(app, oldPair.accessToken)).toBe(200);
        const fresh = await tokens.issue('kid.vic');
        expect(decodePart(fresh.accessToken, 0)).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: 'k-new' });
        expect(await probe(app, fresh.accessToken)).toBe(200);
        // A session started under the old key goes on under the new one.
        const rotated = await tokens.refresh(oldPair2.refreshToken);
        expect(decodePart(rotated.accessToken, 0)).toMatchObject({ kid: 'k-new' });

        const ring = app.get(KeyRing);
        expect(() => ring.retire('k-new')).toThrow();
        expect(ring.retire('k-old')).toBe(true);
        expect(await probe(app, oldPair.accessToken)).toBe(401);
        expect(await tokens.introspect(oldPair.accessToken)).toEqual({ active: false });
        expect(await probe(app, fresh.accessToken)).toBe(200);
        expect(await probe(app, rotated.accessToken)).toBe(200);
        // Refresh tokens are opaque: retiring a signing key does not end sessions.
        expect(decodePart((await tokens.refresh(oldPair.refreshToken)).accessToken, 0)).toMatchObject({ kid: 'k-new' });
      } finally {
        await app.close();
      }
    });

    it('an unknown or malicious kid, or an algorithm the named key does not use, is a plain 401', async () => {
      const app = await bootProbeApp(db.fresh(), { signing: { keys: [HMAC, NEW] } });
      try {
        const tokens = tokensOf(app);
        const pair = await tokens.issue('kid.wes');
        const payload = decodePart(pair.accessToken, 1);
        const header = { alg: 'HS256', typ: 'at+jwt' };
        // The control: a hand-made token with the right kid and key passes, so the others fail for their kid alone.
        expect(await probe(app, forge({ ...header, kid: 'k-hmac' }, payload, hmac))).toBe(200);
        const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
        const hostile = [
          forge({ ...header, kid: 'nope' }, payload, hmac),
          forge(header, payload, hmac),
          forge({ ...header, kid: '' }, payload, hmac),
          forge({ ...header, kid: '../../../../dev/null' }, payload, ''),
          forge({ ...header, kid: "k-hmac' OR '1'='1" }, payload, hmac),
          forge({ ...header, kid: '__proto__' }, payload, hmac),
          forge({ ...header, kid: 'constructor' }, payload, hmac),
          forge({ ...header, kid: { $ne: null } }, payload, hmac),
          forge({ ...header, kid: ['k-hmac'] }, payload, hmac),
          forge({ ...header, kid: 7 }, payload, hmac),
          forge({ ...header, kid: 'k-new' }, payload, publicPem),
          forge({ ...header, kid: 'k-new' }, payload, hmac),
          forge({ alg: 'none', typ: 'at+jwt', kid: 'k-hmac' }, payload, null),
          forge({ ...header, kid: 'k-hmac', alg: 'HS512' }, payload, hmac),
          forge({ ...header, kid: 'x'.repeat(5000) }, payload, hmac),
        ];
        for (const token of hostile) {
          const res = await request(app.getHttpServer()).get('/probe').set('Authorization', `Bearer ${token}`);
          expect(res.status).toBe(401);
          expect(res.body).toEqual(INVALID);
          expect(await tokens.introspect(token)).toEqual({ active: false });
          await expect(tokens.revokeToken(token)).resolves.toBeUndefined();
        }
        expect(await probe(app, pair.accessToken)).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('a grace replay right after a restart that made another key current gets the same pair, not reuse', async () => {
      const before = await bootProbeApp(db.fresh(), { signing: { keys: [OLD] }, refreshReuseGrace: 30 });
      let first: IssuedTokens;
      let second: IssuedTokens;
      try {
        first = await tokensOf(before).issue('kid.xena');
        second = await tokensOf(before).refresh(first.refreshToken);
      } finally {
        await before.close();
      }
      const app = await bootProbeApp(db.reopen(), { signing: { keys: [NEW, OLD] }, refreshReuseGrace: 30 });
      try {
        const tokens = tokensOf(app);
        const replay = await tokens.refresh(first.refreshToken).catch((error: unknown) => error);
        expect(replay).toMatchObject({ refreshToken: second.refreshToken, jti: second.jti });
        expect((await tokens.findSession(first.sessionId))?.revokedAt).toBeNull();
      } finally {
        await app.close();
      }
    });

    twoInstances(
      'two instances with different current keys (a rolling key rotation) keep one live chain for parallel refreshes',
      async () => {
        const a = await bootProbeApp(db.fresh(), { signing: { keys: [OLD] } });
        const b = await bootProbeApp(db.reopen(), { signing: { keys: [NEW, OLD] } });
        try {
          const first = await tokensOf(a).issue('kid.yuri');
          const results = await Promise.allSettled(
            Array.from({ length: 6 }, (_, i) => tokensOf(i % 2 ? a : b).refresh(first.refreshToken)),
          );
          expectOnePair(results);
          expect((await tokensOf(a).findSession(first.sessionId))?.revokedAt).toBeNull();
          expect(await liveRefreshRows(a, first.sessionId)).toHaveLength(1);
        } finally {
          await b.close();
          await a.close();
        }
      },
    );
  });
});
