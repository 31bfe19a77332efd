import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { InvalidTokenException, KeyRing, type IssuedTokens, type SigningKeyOptions } from 'nestjs-jwt-revocation';
import request from 'supertest';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { decodePart, forge } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { INVALID } from '../support/http.js';
import { keyPair } from '../support/keys.js';
import { bootProbeApp, expectOnePair, probe } from '../support/probe-app.js';
import { raceRounds } from '../support/races.js';
import { within } from '../support/time.js';
import { backdateSpend, liveRefreshRows, refreshRowOf, sha256 } from '../support/token-rows.js';

const ROUNDS = raceRounds();

/** A catch-up every second (syncInterval: 1), plus the time to run it, with room to spare on a loaded machine. */
const SYNC_BOUND_MS = 5000;

/** Each round waits for the other instance's catch-up (polling on MariaDB): room for RACE_ROUNDS rounds. */
const TWO_INSTANCE_TIMEOUT_MS = 30_000 + ROUNDS * 2 * SYNC_BOUND_MS;

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('key rotation', () => {
    const ec = keyPair('ES256');
    const rsa = keyPair('RS256');
    const ed = keyPair('EdDSA');
    const hmac = 'rotation-hmac-secret-that-is-32-bytes-or-more';
    const OLD: SigningKeyOptions = { kid: 'k-old', algorithm: 'ES256', privateKey: ec.privateKey };
    const NEW: SigningKeyOptions = { kid: 'k-new', algorithm: 'RS256', privateKey: rsa.privateKey };
    const HMAC: SigningKeyOptions = { kid: 'k-hmac', secret: hmac };
    const NEW_ED: SigningKeyOptions = { kid: 'k-new', algorithm: 'EdDSA', privateKey: ed.privateKey };

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

    it.each([
      ['RS256', NEW],
      ['EdDSA', NEW_ED],
    ])(
      'after a restart with [new (%s), old]: old tokens work, new ones use the new kid; retire(old) kills old tokens at once',
      async (algorithm, newKey) => {
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

        const app = await bootProbeApp(db.reopen(), { signing: { keys: [newKey, OLD] } });
        try {
          const tokens = tokensOf(app);
          expect(await probe(app, oldPair.accessToken)).toBe(200);
          const fresh = await tokens.issue('kid.vic');
          expect(decodePart(fresh.accessToken, 0)).toEqual({ alg: algorithm, typ: 'at+jwt', kid: 'k-new' });
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
          expect(decodePart((await tokens.refresh(oldPair.refreshToken)).accessToken, 0)).toMatchObject({
            kid: 'k-new',
          });
        } finally {
          await app.close();
        }
      },
    );

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
        // A catch-up every second: each refuses what the other revoked within SYNC_BOUND_MS, whatever the bus.
        const a = await bootProbeApp(db.fresh(), { signing: { keys: [OLD] }, syncInterval: 1 });
        const b = await bootProbeApp(db.reopen(), { signing: { keys: [NEW, OLD] }, syncInterval: 1 });
        const name = new Map([
          [a, 'instance a'],
          [b, 'instance b'],
        ]);
        try {
          for (let round = 0; round < ROUNDS; round++) {
            const first = await tokensOf(round % 2 ? b : a).issue(`kid.yuri${round}`);
            const on = Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b));
            const results = await Promise.allSettled(
              on.map((app) => tokensOf(app).refresh(first.refreshToken, { userAgent: name.get(app) })),
            );
            const pairs = expectOnePair(results);
            const pair = pairs[0];
            // Which instance wrote the successor: the user agent it wrote with, on the one live chain.
            const live = await liveRefreshRows(a, first.sessionId);
            expect(live).toHaveLength(1);
            expect(live[0].tokenHash).toBe(sha256(pair.refreshToken));
            expect(live[0].parentJti).toBe((await refreshRowOf(a, first.refreshToken)).jti);
            expect([...name.values()]).toContain(live[0].userAgent);
            expect((await tokensOf(a).findSession(first.sessionId))?.revokedAt).toBeNull();
            // Every caller got the pair signed by the instance it asked, under that one's current key:
            // b's guard takes both keys; a's knows only the old one, and an unknown kid is a plain 401.
            for (const [i, got] of pairs.entries()) {
              expect(got.jti).toBe(pair.jti);
              const signedByA = on[i] === a;
              expect(decodePart(got.accessToken, 0)).toMatchObject({ kid: signedByA ? 'k-old' : 'k-new' });
              expect(await probe(b, got.accessToken)).toBe(200);
              expect(await probe(a, got.accessToken)).toBe(signedByA ? 200 : 401);
            }
            // The chain goes on from the instance that did not write the successor.
            const other = live[0].userAgent === 'instance a' ? b : a;
            const next = await tokensOf(other).refresh(pair.refreshToken);
            expect(await probe(b, next.accessToken)).toBe(200);
            expect(await probe(other, next.accessToken)).toBe(200);
            // The token the race spent, two generations old now, on the other instance: inside the
            // grace window, the live end of the chain (whichever instance's key derived each link).
            const reuseOn = other === a ? b : a;
            expect(await tokensOf(reuseOn).refresh(first.refreshToken)).toMatchObject({ jti: next.jti });
            // Spent before the window: reuse.
            await backdateSpend(a, first.refreshToken, 6_000);
            await expect(tokensOf(reuseOn).refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
            // The session dies on both guards: at once on the one that saw the reuse, within its catch-up on the other.
            for (const dead of [pairs[0], pairs[1], next]) {
              expect(await probe(reuseOn, dead.accessToken)).toBe(401);
              await within(SYNC_BOUND_MS, async () => (await probe(other, dead.accessToken)) === 401);
            }
            expect(await liveRefreshRows(a, first.sessionId)).toHaveLength(0);
          }
        } finally {
          await b.close();
          await a.close();
        }
      },
      TWO_INSTANCE_TIMEOUT_MS,
    );
  });
});
