import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { InvalidTokenException, type IssuedTokens, type TokenLogService } from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectDead, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';
import { liveRefreshRows } from '../support/token-rows.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('refresh racing logout and logout-all', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));
    let twin: INestApplication | undefined;
    afterAll(async () => {
      await twin?.close();
    });

    /** Runs refresh and revoke at once, the revoke started `lag` ms later (0: same tick), and checks nothing survives. */
    async function race(
      refresher: INestApplication,
      revoker: INestApplication,
      subject: string,
      revoke: (tokens: TokenLogService, pair: IssuedTokens) => Promise<unknown>,
    ): Promise<void> {
      for (const lag of [0, 0, 1, 2, 3, 5]) {
        const pair = await tokensOf(refresher).issue(subject);
        const [refreshed, revoked] = await Promise.allSettled([
          tokensOf(refresher).refresh(pair.refreshToken),
          sleep(lag).then(() => revoke(tokensOf(revoker), pair)),
        ]);
        expect(revoked.status).toBe('fulfilled');
        // Either order is fine: a refresh that won is revoked with the session, one that lost is a plain 401.
        if (refreshed.status === 'fulfilled') await expectDead(revoker, refreshed.value);
        else expect(refreshed.reason).toBeInstanceOf(InvalidTokenException);
        await expectDead(revoker, pair);
        expect(await liveRefreshRows(revoker, pair.sessionId)).toHaveLength(0);
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
        twin = await bootProbeApp(db.reopen());
        // Each app has its own guard: the revoking one, booted first, answers for itself.
        await race(twin, app, 'race.kim', (tokens, pair) => tokens.revokeSession(pair.sessionId, 'logout'));
        await race(twin, app, 'race.leo', (tokens) => tokens.revokeAllForSubject('race.leo'));
        // The refreshing instance cannot refresh anything of those sessions either.
        const rows = await app
          .get(DataSource)
          .getRepository(jwtRevocationEntitySet().tokenLog)
          .find({ where: { subject: 'race.kim' } });
        expect(rows.filter((r) => r.revokedAt === null)).toEqual([]);
      },
    );
  });
});
