import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import { SessionActivity } from 'nestjs-jwt-revocation/testing';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { legacyMigration, legacyToken } from '../../support/legacy-tokens.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/**
 * "Last seen" is a column of the session row. The app's old tokens (a migration
 * window) have none, so a request with one notes nothing; a request with one of
 * ours notes its session. The flush interval is an hour: nothing is written, and
 * cleared, while the test looks.
 */
eachAdapter('last seen and the app’s old tokens', (adapter) => {
  const running = appForSuite(() =>
    startGuardApp(
      { signing: { secret: TEST_SECRET }, migration: legacyMigration(), lastSeenFlushInterval: 3600 },
      { adapter, controllers: [WhoController] },
    ),
  );

  it('a request with an old token notes no last seen; one with ours notes its session', async () => {
    const activity = running.app.get(SessionActivity);
    const old = await running.http
      .get('/who')
      .set(bearer(legacyToken({ sub: 'user-old' })))
      .expect(200);
    expect(activity.lastSeen(old.body.sid)).toBeUndefined();
    const issued = await tokensOf(running).issue('user-new');
    const ours = await running.http.get('/who').set(bearer(issued.accessToken)).expect(200);
    expect(activity.lastSeen(ours.body.sid)).toBeDefined();
  });
});
