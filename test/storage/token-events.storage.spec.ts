import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { TokenEvents, type TokenLogService } from 'nestjs-jwt-revocation';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { testLogs } from '../support/logs.js';
import { bootProbeApp, collect, expectInvalid } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';
import { backdateSpend, refreshRowOf } from '../support/token-rows.js';

testLogs.expect(/listener failed: (async )?listener boom$/);

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('events', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));
    let tokens: TokenLogService;
    beforeAll(async () => {
      tokens = tokensOf(app);
    });

    it('subscribers hear issued, refreshed, revoked (scope and reason) and reuse_detected', async () => {
      const { events, stop } = collect(app);
      const first = await tokens.issue('ev.finn');
      const r0 = await refreshRowOf(app, first.refreshToken);
      const second = await tokens.refresh(first.refreshToken);
      const third = await tokens.refresh(second.refreshToken);
      await tokens.revoke(first.jti, 'admin');
      await backdateSpend(app, first.refreshToken, 6_000);
      await expectInvalid(tokens.refresh(first.refreshToken)); // spent before the grace window: reuse
      const other = await tokens.issue('ev.finn');
      await tokens.revokeSession(other.sessionId, 'session_revoked');
      await tokens.revokeAllForSubject('ev.finn');
      stop();
      await tokens.issue('ev.finn');

      expect(events).toEqual([
        { type: 'issued', subject: 'ev.finn', sessionId: first.sessionId, jti: first.jti },
        { type: 'refreshed', subject: 'ev.finn', sessionId: first.sessionId, jti: second.jti, parentJti: r0.jti },
        {
          type: 'refreshed',
          subject: 'ev.finn',
          sessionId: first.sessionId,
          jti: third.jti,
          parentJti: expect.any(String),
        },
        { type: 'revoked', scope: 'token', jti: first.jti, reason: 'admin' },
        { type: 'revoked', scope: 'session', sessionId: first.sessionId, reason: 'refresh_reuse' },
        { type: 'reuse_detected', subject: 'ev.finn', sessionId: first.sessionId, jti: r0.jti },
        { type: 'issued', subject: 'ev.finn', sessionId: other.sessionId, jti: other.jti },
        { type: 'revoked', scope: 'session', sessionId: other.sessionId, reason: 'session_revoked' },
        { type: 'revoked', scope: 'subject', subject: 'ev.finn', reason: 'logout_all' },
      ]);
      expect((events[2] as { parentJti: string }).parentJti).toBe((await refreshRowOf(app, second.refreshToken)).jti);
    });

    it('a listener that throws or rejects never breaks the call that emitted', async () => {
      const seen: string[] = [];
      const stops = [
        app.get(TokenEvents).subscribe(() => {
          throw new Error('listener boom');
        }),
        app.get(TokenEvents).subscribe(async () => {
          throw new Error('async listener boom');
        }),
        app.get(TokenEvents).subscribe((event) => {
          seen.push(event.type);
        }),
      ];
      try {
        const pair = await tokens.issue('ev.gil');
        const next = await tokens.refresh(pair.refreshToken);
        await tokens.revokeSession(next.sessionId);
        expect(seen).toEqual(['issued', 'refreshed', 'revoked']);
        // Each failure is logged, the async ones once their promise rejects.
        await sleep(10);
        const logged = testLogs.take(/listener failed/).map((line) => `${line.level} ${line.message}`);
        expect(logged.sort()).toEqual(
          ['issued', 'refreshed', 'revoked']
            .flatMap((type) => [
              `error a "${type}" listener failed: async listener boom`,
              `error a "${type}" listener failed: listener boom`,
            ])
            .sort(),
        );
      } finally {
        for (const stop of stops) stop();
      }
    });
  });
});
