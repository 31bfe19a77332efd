import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { IssuedTokens } from 'nestjs-jwt-revocation';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { raceRounds } from '../support/races.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep, until } from '../support/time.js';
import { rowsOf } from '../support/token-rows.js';

const ROUNDS = raceRounds();

/** Delays of the revoke behind the requests, in ms, round after round: 0 is the same tick. */
const LAGS = [0, 0, 1, 2, 3, 5, 8];

/** 60-second tokens renewed from 59 s before exp: due one second after the second they were issued in. */
const RENEWING = { accessTokenTtl: 60, slidingRenewal: { threshold: 59 } };

/** Guarded requests at once with the due token, per round. */
const RACERS = 4;

eachDatabase('sliding renewal (service level)', (database) => {
  const db = database();

  describe('renewal racing logout, logout everywhere and logout of the other sessions', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh(), RENEWING));

    it(`${ROUNDS} rounds: due requests racing a revoke leave no live token in the session, and any token they were handed is refused`, async () => {
      const tokens = tokensOf(app);
      const run = randomBytes(3).toString('hex');
      const pairs: IssuedTokens[] = [];
      for (let round = 0; round < ROUNDS; round++) pairs.push(await tokens.issue(`renew.race.${run}.${round}`));
      // One wait makes every round's token due.
      const { iat } = decodePart(pairs[pairs.length - 1].accessToken, 1) as { iat: number };
      await until((iat + 1) * 1000);

      let renewedRounds = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const pair = pairs[round];
        const subject = `renew.race.${run}.${round}`;
        const revoke: () => Promise<unknown> = [
          () => tokens.revokeSession(pair.sessionId),
          () => tokens.revokeAllForSubject(subject),
          // A password change's revoke: every session but another one of the subject, so this one goes.
          () => tokens.revokeOtherSessions(subject, `other-${run}-${round}`),
        ][round % 3];
        const lag = LAGS[round % LAGS.length];
        const [responses] = await Promise.all([
          Promise.all(
            Array.from({ length: RACERS }, () =>
              request(app.getHttpServer()).get('/probe').set('Authorization', `Bearer ${pair.accessToken}`),
            ),
          ),
          sleep(lag).then(revoke),
        ]);

        // Each request was answered before or after the revoke: 200 or 401, never an error.
        for (const res of responses) expect([200, 401]).toContain(res.status);
        const handed = new Set(
          responses.map((res) => res.headers['x-renewed-access-token']).filter((t): t is string => t !== undefined),
        );
        // One renewal at most, whoever won.
        expect(handed.size).toBeLessThanOrEqual(1);
        if (handed.size > 0) renewedRounds++;
        // Nothing of the session is left alive: not the login's token, not one a renewal wrote.
        const rows = await rowsOf(app, pair.sessionId);
        expect(rows.filter((row) => row.revokedAt === null)).toEqual([]);
        expect(rows.filter((row) => row.tokenType === 'access').length).toBeLessThanOrEqual(2);
        for (const token of [pair.accessToken, ...handed]) {
          expect(await probe(app, token)).toBe(401);
          expect(await tokens.introspect(token)).toEqual({ active: false });
        }
      }
      // Both orders happened, or the race was not played: say how the rounds fell.
      console.info(`[${db.name}] renewal before the revoke in ${renewedRounds} of ${ROUNDS} rounds`);
    }, 60_000);
  });
});
