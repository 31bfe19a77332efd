import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import type { IssuedTokens } from 'nestjs-jwt-revocation';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { raceRounds } from '../support/races.js';
import { appForSuite } from '../support/suite-app.js';
import { liveRefreshRows } from '../support/token-rows.js';

const ROUNDS = raceRounds();

/**
 * The browser race of README "Racers a refresh or two apart", at the service:
 * a page's burst of refreshes with the first refresh cookie runs while a tab
 * refreshes three times in a row with the cookies it gets. Part of the burst
 * is sent after the tab's second and third refresh, two or three links
 * behind the live end; every one of them must get a pair of the chain, and
 * the session must live on with one chain.
 */
eachDatabase('refresh chain race', (database) => {
  const db = database();
  const app = appForSuite(() => bootProbeApp(db.fresh()));

  it(`a burst with the first refresh token racing a tab that refreshes three times: nobody is signed out, one chain (${ROUNDS} rounds)`, async () => {
    const tokens = tokensOf(app);
    for (let round = 0; round < ROUNDS; round++) {
      const first = await tokens.issue(`chain.race${round}`);
      // The burst: four sent at once with the tab's first refresh, and three each held back
      // until the tab's second and third refresh are done (what a browser's connection queue does).
      const burst: Promise<IssuedTokens>[] = [];
      const send = (n: number) => {
        for (let i = 0; i < n; i++) burst.push(tokens.refresh(first.refreshToken));
      };
      const tab = async (): Promise<IssuedTokens[]> => {
        const chain: IssuedTokens[] = [];
        let current = first.refreshToken;
        for (let i = 0; i < 3; i++) {
          const next = await tokens.refresh(current);
          chain.push(next);
          current = next.refreshToken;
          if (i > 0) send(3);
        }
        return chain;
      };
      const racing = tab();
      send(4);
      const [chain, ...answers] = await Promise.allSettled([racing, ...burst]);
      // Those sent last joined the list while the first ones ran.
      answers.push(...(await Promise.allSettled(burst.slice(answers.length))));
      expect(answers).toHaveLength(10);
      const refused = [chain, ...answers].filter((r) => r.status === 'rejected').map((r) => String(r.reason));
      expect(refused).toEqual([]);
      const links = (chain as PromiseFulfilledResult<IssuedTokens[]>).value.map((p) => p.refreshToken);
      for (const answer of answers)
        expect(links).toContain((answer as PromiseFulfilledResult<IssuedTokens>).value.refreshToken);
      expect((await tokens.findSession(first.sessionId))?.revokedAt).toBeNull();
      const live = await liveRefreshRows(app, first.sessionId);
      expect(live).toHaveLength(1);
      const end = (chain as PromiseFulfilledResult<IssuedTokens[]>).value[2];
      expect(await probe(app, end.accessToken)).toBe(200);
    }
  });
});
