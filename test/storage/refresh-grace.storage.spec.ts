import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { InvalidTokenException } from 'nestjs-jwt-revocation';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectDead, expectInvalid } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('grace window elapsed (refreshReuseGrace 1)', () => {
    const short = appForSuite(() => bootProbeApp(db.fresh(), { refreshReuseGrace: 1 }));

    it('after refreshReuseGrace, the previous token is reuse: the session dies with reason refresh_reuse', async () => {
      const tokens = tokensOf(short);
      const first = await tokens.issue('late.erin');
      const second = await tokens.refresh(first.refreshToken);
      await sleep(1300);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(short, second);
    });
  });

  describe('grace window disabled (refreshReuseGrace 0)', () => {
    const none = appForSuite(() => bootProbeApp(db.fresh(), { refreshReuseGrace: 0 }));

    it('refreshReuseGrace 0: presenting the previous token again is reuse at once', async () => {
      const tokens = tokensOf(none);
      const first = await tokens.issue('strict.frank');
      const second = await tokens.refresh(first.refreshToken);
      await sleep(5);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(none, second);
    });

    it('refreshReuseGrace 0: two parallel refreshes with one token are reuse, not a replayed pair', async () => {
      const tokens = tokensOf(none);
      const first = await tokens.issue('strict.gina');
      const results = await Promise.allSettled([
        tokens.refresh(first.refreshToken),
        tokens.refresh(first.refreshToken),
      ]);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidTokenException);
      // With the window disabled, at most one caller gets a pair, and the duplicate kills the session.
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
    });
  });
});
