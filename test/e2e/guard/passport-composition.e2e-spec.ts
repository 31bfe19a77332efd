import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Req, UseGuards } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { forge, decodePart } from '../../support/forge.js';
import { startGuardApp, tokensOf } from '../../support/guard-app.js';
import { bearer, INVALID } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/** Another way in, as apps compose them: a fixed key in X-Api-Key. */
class HeaderKeyStrategy extends passport.Strategy {
  override authenticate(request: { headers: Record<string, unknown> }): void {
    if (request.headers['x-api-key'] === 'robot-key') this.success({ robot: true });
    else this.fail(401);
  }
}

@Injectable()
class ApiKeyStrategy extends PassportStrategy(HeaderKeyStrategy, 'api-key') {
  validate(): never {
    throw new Error('not called: the strategy answers in authenticate');
  }
}

@Controller('either')
@UseGuards(AuthGuard(['jwt-revocation', 'api-key']))
class EitherController {
  @Get()
  who(@Req() request: { user: Record<string, unknown> }) {
    return request.user;
  }
}

@Controller('only')
@UseGuards(AuthGuard('jwt-revocation'))
class OnlyController {
  @Get()
  who(@Req() request: { user: Record<string, unknown> }) {
    return request.user;
  }
}

const API_KEY = { 'X-Api-Key': 'robot-key' };

/** The module's passport strategy, used the way passport users compose strategies. */
eachAdapter("AuthGuard(['jwt-revocation', ...]) composition", (adapter) => {
  const running = appForSuite(() =>
    startGuardApp(
      { signing: { secret: TEST_SECRET } },
      { adapter, controllers: [EitherController, OnlyController], providers: [ApiKeyStrategy] },
    ),
  );

  it("AuthGuard('jwt-revocation'): a good token passes with its claims, a missing one is 401", async () => {
    const pair = await tokensOf(running).issue('compose.ann');
    const res = await running.http.get('/only').set(bearer(pair.accessToken)).expect(200);
    expect(res.body).toMatchObject({ sub: 'compose.ann', jti: pair.jti, sid: pair.sessionId });
    await running.http.get('/only').expect(401);
  });

  it("AuthGuard('jwt-revocation'): a revoked token is 401 with the module's body", async () => {
    const pair = await tokensOf(running).issue('compose.bob');
    await running.http.get('/only').set(bearer(pair.accessToken)).expect(200);
    await tokensOf(running).revokeToken(pair.accessToken);
    const res = await running.http.get('/only').set(bearer(pair.accessToken)).expect(401);
    expect(res.body).toEqual(INVALID);
  });

  it('either way in: our token, or the API key', async () => {
    const pair = await tokensOf(running).issue('compose.cy');
    expect((await running.http.get('/either').set(bearer(pair.accessToken)).expect(200)).body.sub).toBe('compose.cy');
    expect((await running.http.get('/either').set(API_KEY).expect(200)).body).toEqual({ robot: true });
    await running.http.get('/either').expect(401);
  });

  it('a token that is not ours (bad signature, broken claims) lets the next strategy answer', async () => {
    const pair = await tokensOf(running).issue('compose.dee');
    const header = decodePart(pair.accessToken, 0);
    const claims = decodePart(pair.accessToken, 1);
    for (const token of [
      forge(header, claims, `${TEST_SECRET}-other`),
      forge({ ...header, typ: 'JWT' }, claims, TEST_SECRET),
      'not-a-jwt',
    ]) {
      await running.http.get('/either').set(bearer(token)).expect(401);
      const res = await running.http.get('/either').set(bearer(token)).set(API_KEY).expect(200);
      expect(res.body).toEqual({ robot: true });
    }
  });

  it('a revoked token of ours stops the chain: 401 even with a good API key beside it', async () => {
    const pair = await tokensOf(running).issue('compose.eve');
    await tokensOf(running).revokeToken(pair.accessToken);
    const res = await running.http.get('/either').set(bearer(pair.accessToken)).set(API_KEY).expect(401);
    expect(res.body).toEqual(INVALID);
  });
});
