import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer, expect401, MISSING } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

eachAdapter('access token from a cookie', (adapter) => {
  describe('token from a cookie only: tokenFrom { header: false, cookie: "at" }', () => {
    const running = appForSuite(() =>
      startGuardApp(
        { signing: { secret: TEST_SECRET }, tokenFrom: { header: false, cookie: 'at' } },
        { adapter, controllers: [WhoController] },
      ),
    );
    let token: string;
    beforeAll(async () => {
      token = (await tokensOf(running).issue('cookie-user')).accessToken;
    });

    it('the token in the "at" cookie works, alone or among other cookies', async () => {
      const alone = await running.http.get('/who').set('Cookie', `at=${token}`).expect(200);
      expect(alone.body.sub).toBe('cookie-user');
      await running.http.get('/who').set('Cookie', `theme=dark; at=${token}; lang=en`).expect(200);
    });

    it('the same token in the Authorization header is 401', async () => {
      expect401(await running.http.get('/who').set(bearer(token)), MISSING);
    });

    it('the token in a cookie of another name is 401', async () => {
      expect401(await running.http.get('/who').set('Cookie', `at2=${token}; xat=${token}`), MISSING);
    });

    it('a tampered token in the cookie is 401', async () => {
      expect401(await running.http.get('/who').set('Cookie', `at=${token.slice(0, -2)}`));
    });
  });
});
