import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { InvalidTokenException, type IssuedTokens, type TokenLogService } from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectDead, probe } from '../support/probe-app.js';
import { raceRounds } from '../support/races.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep, within } from '../support/time.js';
import { liveRefreshRows, refreshRowOf, rowsOf } from '../support/token-rows.js';

const ROUNDS = raceRounds();

/** A catch-up every second (syncInterval: 1), plus the time to run it, with room to spare on a loaded machine. */
const SYNC_BOUND_MS = 5000;

/** Each round waits for the other instance's catch-up (polling on MariaDB): room for RACE_ROUNDS rounds of both races. */
const TWO_INSTANCE_TIMEOUT_MS = 30_000 + ROUNDS * 2 * 2 * SYNC_BOUND_MS;

/** Delays of the revoke behind the refresh, in ms, round after round: 0 is the same tick. */
const LAGS = [0, 0, 1, 2, 3, 5];

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('refresh racing logout and logout-all', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));
    let twin: INestApplication | undefined;
    afterAll(async () => {
      await twin?.close();
    });

    /** Refused by the guard of every instance: the revoking one at once, the others within their catch-up. */
    async function expectRefusedEverywhere(
      revoker: INestApplication,
      instances: INestApplication[],
      pair: IssuedTokens,
    ) {
      expect(await probe(revoker, pair.accessToken)).toBe(401);
      for (const instance of instances)
        await within(SYNC_BOUND_MS, async () => (await probe(instance, pair.accessToken)) === 401);
    }

    /**
     * One round's outcome, read from the refresh's answer and checked in full against the
     * database and the guard of every instance. Returns who won.
     */
    async function expectOutcome(
      revoker: INestApplication,
      instances: INestApplication[],
      pair: IssuedTokens,
      refreshed: PromiseSettledResult<IssuedTokens>,
    ): Promise<'refresh' | 'revoke'> {
      const spentAt = (await refreshRowOf(revoker, pair.refreshToken)).spentAt;
      const rows = await rowsOf(revoker, pair.sessionId);
      if (refreshed.status === 'fulfilled') {
        // The refresh committed first: it spent the token and wrote a pair in the session,
        // which the revoke then took with the rest.
        const won = refreshed.value;
        expect(won.sessionId).toBe(pair.sessionId);
        expect(spentAt).not.toBeNull();
        expect(rows).toHaveLength(4);
        expect(rows.map((r) => r.jti)).toContain(won.jti);
        await expectDead(revoker, won);
        await expectRefusedEverywhere(revoker, instances, won);
      } else {
        // The revoke committed first: the refresh is a plain 401 that spent nothing and wrote nothing.
        expect(refreshed.reason).toBeInstanceOf(InvalidTokenException);
        expect(spentAt).toBeNull();
        expect(rows).toHaveLength(2);
      }
      // Either way the login's pair is dead everywhere, and nothing of the session can be refreshed.
      await expectDead(revoker, pair);
      await expectRefusedEverywhere(revoker, instances, pair);
      expect(rows.filter((r) => r.revokedAt === null)).toEqual([]);
      expect(await liveRefreshRows(revoker, pair.sessionId)).toHaveLength(0);
      return refreshed.status === 'fulfilled' ? 'refresh' : 'revoke';
    }

    /**
     * Each order once, played in turn (each must give its own outcome), then the race ROUNDS
     * times: a refresh on `refresher` and a revoke on `revoker` at once, one of them started a
     * few ms after the other in most rounds, each side first in turn.
     */
    async function race(
      refresher: INestApplication,
      revoker: INestApplication,
      subject: string,
      revoke: (tokens: TokenLogService, pair: IssuedTokens) => Promise<unknown>,
    ): Promise<void> {
      const instances = [...new Set([refresher, revoker])];
      const settle = (call: Promise<IssuedTokens>) =>
        call.then(
          (value): PromiseSettledResult<IssuedTokens> => ({ status: 'fulfilled', value }),
          (reason: unknown): PromiseSettledResult<IssuedTokens> => ({ status: 'rejected', reason }),
        );

      const early = await tokensOf(refresher).issue(subject);
      const refreshedFirst = await settle(tokensOf(refresher).refresh(early.refreshToken));
      await revoke(tokensOf(revoker), early);
      expect(await expectOutcome(revoker, instances, early, refreshedFirst)).toBe('refresh');
      const late = await tokensOf(refresher).issue(subject);
      await revoke(tokensOf(revoker), late);
      const refreshedLast = await settle(tokensOf(refresher).refresh(late.refreshToken));
      expect(await expectOutcome(revoker, instances, late, refreshedLast)).toBe('revoke');

      for (let round = 0; round < ROUNDS; round++) {
        const lag = LAGS[round % LAGS.length];
        const [refreshLag, revokeLag] = round % 2 === 0 ? [0, lag] : [lag, 0];
        const pair = await tokensOf(refresher).issue(subject);
        const [refreshed, revoked] = await Promise.allSettled([
          sleep(refreshLag).then(() => tokensOf(refresher).refresh(pair.refreshToken)),
          sleep(revokeLag).then(() => revoke(tokensOf(revoker), pair)),
        ]);
        expect(revoked.status).toBe('fulfilled');
        await expectOutcome(revoker, instances, pair, refreshed);
      }
    }

    it('refresh racing revokeSession (logout) never yields a token that survives it', async () => {
      await race(app, app, 'race.ivan', (tokens, pair) => tokens.revokeSession(pair.sessionId, 'logout'));
    });

    it('refresh racing revokeAllForSubject (logout-all) never yields a token that survives it', async () => {
      await race(app, app, 'race.judy', (tokens) => tokens.revokeAllForSubject('race.judy'));
      // A new login after the cutoff works.
      const again = await tokensOf(app).issue('race.judy');
      expect(await probe(app, again.accessToken)).toBe(200);
    });

    twoInstances(
      'across two instances: a refresh on one racing a logout or logout-all on the other leaves nothing alive',
      async () => {
        // A catch-up every second: the refreshing instance refuses what the other revoked within SYNC_BOUND_MS, whatever the bus.
        twin = await bootProbeApp(db.reopen(), { syncInterval: 1 });
        await race(twin, app, 'race.kim', (tokens, pair) => tokens.revokeSession(pair.sessionId, 'logout'));
        await race(twin, app, 'race.leo', (tokens) => tokens.revokeAllForSubject('race.leo'));
        // The refreshing instance cannot refresh anything of those sessions either.
        const rows = await app
          .get(DataSource)
          .getRepository(jwtRevocationEntitySet().tokenLog)
          .find({ where: { subject: 'race.kim' } });
        expect(rows.filter((r) => r.revokedAt === null)).toEqual([]);
      },
      TWO_INSTANCE_TIMEOUT_MS,
    );
  });
});
