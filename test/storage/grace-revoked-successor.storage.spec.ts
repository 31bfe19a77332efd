import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectInvalid } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { refreshRowOf } from '../support/token-rows.js';

/**
 * The grace window hands the previous refresh token's caller the same pair again,
 * but only while that pair is the live end of the chain. One of its tokens revoked
 * on its own (an admin, RFC 7009) ends that: the replay gets nothing back and counts
 * as reuse, as outside the window. The same holds for a link further down the chain
 * (the window follows spent links to the live end).
 */
eachDatabase('refresh grace with a revoked successor', (database) => {
  const db = database();
  const app = appForSuite(() => bootProbeApp(db.fresh(), { refreshReuseGrace: 60 }));

  it('the successor refresh token revoked: a replay inside the window is refused, and the session dies', async () => {
    const tokens = tokensOf(app);
    const first = await tokens.issue('grace.rita');
    const second = await tokens.refresh(first.refreshToken);
    expect(await tokens.revoke((await refreshRowOf(app, second.refreshToken)).jti, 'admin')).toBe(true);
    await expectInvalid(tokens.refresh(first.refreshToken));
    expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
  });

  it('the successor access token revoked: a replay inside the window is refused, and the session dies', async () => {
    const tokens = tokensOf(app);
    const first = await tokens.issue('grace.sam');
    const second = await tokens.refresh(first.refreshToken);
    expect(await tokens.revoke(second.jti, 'admin')).toBe(true);
    await expectInvalid(tokens.refresh(first.refreshToken));
    expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
  });

  it('a link further down the chain revoked: a token two generations old is refused inside the window, and the session dies', async () => {
    const tokens = tokensOf(app);
    const first = await tokens.issue('grace.tom');
    const second = await tokens.refresh(first.refreshToken);
    const third = await tokens.refresh(second.refreshToken);
    expect(await tokens.revoke((await refreshRowOf(app, third.refreshToken)).jti, 'admin')).toBe(true);
    await expectInvalid(tokens.refresh(first.refreshToken));
    expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
  });
});
