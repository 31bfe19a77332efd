import 'reflect-metadata';
import { expect } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  CurrentToken,
  InvalidTokenException,
  TokenEvents,
  type IssuedTokens,
  type JwtRevocationModuleOptions,
  type TokenEvent,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import request from 'supertest';
import { tokensOf } from './guard-app.js';
import { bootModule } from './module-app.js';
import { refreshRowOf } from './token-rows.js';

/** The module behind one guarded route, for the service-level suites (test/storage) that also ask the guard. */

/** One guarded route, so a test can ask the guard (not only the service) whether a token still works. */
@Controller('probe')
class ProbeController {
  @Get()
  probe(@CurrentToken() token: VerifiedToken) {
    return { sub: token.sub, sid: token.sid, jti: token.jti };
  }
}

/** The module on `database` with GET /probe behind RevocableJwtGuard (APP_GUARD). */
export async function bootProbeApp(
  database: TypeOrmModuleOptions,
  options: Partial<JwtRevocationModuleOptions> = {},
): Promise<INestApplication> {
  return (await bootModule(database, options, { controllers: [ProbeController] })).app;
}

/** GET /probe with the token: the guard's answer (status code). */
export async function probe(app: INestApplication, accessToken: string): Promise<number> {
  return (await request(app.getHttpServer()).get('/probe').set('Authorization', `Bearer ${accessToken}`)).status;
}

export async function expectInvalid(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(InvalidTokenException);
}

/** Everything of a pair is dead on this instance: at its guard, in its memory (introspection), in the database, for refresh. */
export async function expectDead(app: INestApplication, pair: IssuedTokens): Promise<void> {
  const tokens = tokensOf(app);
  expect(await probe(app, pair.accessToken)).toBe(401);
  expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
  await expectInvalid(tokens.refresh(pair.refreshToken));
  expect((await tokens.findToken(pair.jti))?.revokedAt).not.toBeNull();
  expect((await refreshRowOf(app, pair.refreshToken)).revokedAt).not.toBeNull();
}

/** Parallel refreshes of one token: none failed, and every caller got the same pair. Returns the pairs. */
export function expectOnePair(results: PromiseSettledResult<IssuedTokens>[]): IssuedTokens[] {
  const failures = results
    .filter((r) => r.status === 'rejected')
    .map((r) => String((r as PromiseRejectedResult).reason));
  expect(failures).toEqual([]);
  const pairs = results.map((r) => (r as PromiseFulfilledResult<IssuedTokens>).value);
  expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
  expect(new Set(pairs.map((p) => p.jti)).size).toBe(1);
  return pairs;
}

/** Every token event the app emits until `stop()`. */
export function collect(app: INestApplication): { events: TokenEvent[]; stop: () => void } {
  const events: TokenEvent[] = [];
  const stop = app.get(TokenEvents).subscribe((event) => {
    events.push(event);
  });
  return { events, stop };
}
