import 'reflect-metadata';
import { afterEach, expect, it } from '@jest/globals';
import { RevocationState } from 'nestjs-jwt-revocation/testing';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/**
 * README, "Failing closed": past the time a catch-up last vouched for, the guard
 * (failClosed, the default) answers 503 with Retry-After, even for a valid token.
 * The state is made stale by hand (trustUntil, as RevocationSync does after each
 * catch-up); no catch-up runs during the test to vouch for it again.
 */
eachAdapter('a revocation state too old to trust', (adapter) => {
  const running = appForSuite(() =>
    startGuardApp(
      { signing: { secret: TEST_SECRET }, syncInterval: 3600, maxStaleness: 7200 },
      { adapter, controllers: [WhoController] },
    ),
  );
  afterEach(() => running.app.get(RevocationState).trustUntil(Infinity));

  it('a valid token gets 503 with Retry-After, never 200; trusted again, it gets 200', async () => {
    const issued = await tokensOf(running).issue('user-1');
    await running.http.get('/who').set(bearer(issued.accessToken)).expect(200);
    running.app.get(RevocationState).trustUntil(Date.now() - 1);
    const stale = await running.http.get('/who').set(bearer(issued.accessToken));
    expect(stale.status).toBe(503);
    expect(stale.headers['retry-after']).toBe('5');
    expect(stale.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    running.app.get(RevocationState).trustUntil(Infinity);
    await running.http.get('/who').set(bearer(issued.accessToken)).expect(200);
  });
});
