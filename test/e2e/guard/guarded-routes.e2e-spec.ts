import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CurrentSubject, Public, RevocableJwtGuard } from 'nestjs-jwt-revocation';
import { startGuardApp, tokensOf } from '../../support/guard-app.js';
import { bearer, expect401, MISSING } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/** Which routes the guard covers: per route with @UseGuards, or every route (APP_GUARD) but the @Public() ones. */

@Controller('a')
class PerRouteController {
  @Get('open')
  open() {
    return { open: true };
  }

  @Get('closed')
  @UseGuards(RevocableJwtGuard)
  closed(@CurrentSubject() sub: string) {
    return { sub };
  }
}

@Public()
@Controller('b-public')
class AllPublicController {
  @Get()
  index(@CurrentSubject() sub: string | undefined) {
    return { sub: sub ?? null };
  }

  @Get('other')
  other() {
    return { other: true };
  }
}

@Controller('b')
class MixedController {
  @Public()
  @Get('open')
  open(@CurrentSubject() sub: string | undefined) {
    return { sub: sub ?? null };
  }

  @Get('closed')
  closed(@CurrentSubject() sub: string) {
    return { sub };
  }
}

eachAdapter('which routes the guard covers', (adapter) => {
  describe('per-route guard, no APP_GUARD', () => {
    const running = appForSuite(() =>
      startGuardApp({ signing: { secret: TEST_SECRET } }, { adapter, controllers: [PerRouteController] }),
    );

    it(`the app runs on ${adapter}`, () => {
      expect(running.app.getHttpAdapter().getType()).toBe(adapter);
    });

    it('the unguarded route answers 200 without a token, and ignores a bad one', async () => {
      await running.http.get('/a/open').expect(200, { open: true });
      await running.http.get('/a/open').set(bearer('not.a.token')).expect(200, { open: true });
    });

    it('the guarded route is 401 without a token and with a bad one', async () => {
      expect401(await running.http.get('/a/closed'), MISSING);
      expect401(await running.http.get('/a/closed').set(bearer('not.a.token')));
    });

    it('the guarded route is 200 with a token from TokenLogService.issue', async () => {
      const issued = await tokensOf(running).issue('user-1');
      await running.http.get('/a/closed').set(bearer(issued.accessToken)).expect(200, { sub: 'user-1' });
    });
  });

  describe('global guard via APP_GUARD, with @Public()', () => {
    const running = appForSuite(() =>
      startGuardApp(
        { signing: { secret: TEST_SECRET } },
        {
          adapter,
          controllers: [AllPublicController, MixedController],
          providers: [{ provide: APP_GUARD, useClass: RevocableJwtGuard }],
        },
      ),
    );

    it('class-level @Public(): every route of the controller answers without a token', async () => {
      await running.http.get('/b-public').expect(200, { sub: null });
      await running.http.get('/b-public/other').expect(200, { other: true });
    });

    it('method-level @Public(): that route answers without a token, and a hostile one is not even read', async () => {
      await running.http.get('/b/open').expect(200, { sub: null });
      await running.http.get('/b/open').set(bearer('x.y.z')).expect(200, { sub: null });
    });

    it('a public route does not authenticate: a valid token yields no subject there', async () => {
      const issued = await tokensOf(running).issue('user-b');
      await running.http.get('/b/open').set(bearer(issued.accessToken)).expect(200, { sub: null });
    });

    it('the route without @Public() in the same controller is guarded', async () => {
      expect401(await running.http.get('/b/closed'), MISSING);
      const issued = await tokensOf(running).issue('user-b');
      await running.http.get('/b/closed').set(bearer(issued.accessToken)).expect(200, { sub: 'user-b' });
    });
  });
});
