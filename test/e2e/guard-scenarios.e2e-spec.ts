import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  CurrentSubject,
  CurrentToken,
  JwtRevocationModule,
  Logout,
  Public,
  RevocableJwtGuard,
  TokenLogService,
  type JwtRevocationModuleOptions,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { RevocationState } from 'nestjs-jwt-revocation/testing';
import { bootModule } from '../support/module-app.js';
import { databaseOptions } from '../../sample/config.js';
import { b64, decodePart, forge } from '../support/forge.js';
import { bearer, expect401, MISSING } from '../support/http.js';
import { keyPair, TEST_SECRET, type AsymmetricAlgorithm } from '../support/keys.js';
import { startTestApp, tempSqliteFile, type RunningTestApp } from '../support/test-app.js';

/** A guarded echo of the caller's claims, used by several scenarios. */
@Controller('who')
@UseGuards(RevocableJwtGuard)
class WhoController {
  @Get()
  who(@CurrentSubject() sub: string, @CurrentToken('sid') sid: string, @CurrentToken() token: VerifiedToken) {
    return { sub, sid, jti: token.jti };
  }
}

function tokensOf(running: RunningTestApp): TokenLogService {
  return running.app.get(TokenLogService);
}

// ---------------------------------------------------------------- (a)

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

describe('(a) per-route guard, no APP_GUARD', () => {
  let running: RunningTestApp;
  beforeAll(async () => {
    running = await startTestApp({
      imports: [TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)), JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET } })],
      controllers: [PerRouteController],
    });
  });
  afterAll(async () => {
    await running?.close();
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

// ---------------------------------------------------------------- (b)

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

describe('(b) global guard via APP_GUARD, with @Public()', () => {
  let running: RunningTestApp;
  beforeAll(async () => {
    running = await startTestApp({
      imports: [TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)), JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET } })],
      controllers: [AllPublicController, MixedController],
      providers: [{ provide: APP_GUARD, useClass: RevocableJwtGuard }],
    });
  });
  afterAll(async () => {
    await running?.close();
  });

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

// ---------------------------------------------------------------- (c)

describe('(c) token from a cookie only: tokenFrom { header: false, cookie: "at" }', () => {
  let running: RunningTestApp;
  let token: string;
  beforeAll(async () => {
    running = await startTestApp({
      imports: [
        TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)),
        JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET }, tokenFrom: { header: false, cookie: 'at' } }),
      ],
      controllers: [WhoController],
    });
    token = (await tokensOf(running).issue('cookie-user')).accessToken;
  });
  afterAll(async () => {
    await running?.close();
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

// ---------------------------------------------------------------- (d)

/** A JWS signed properly with an asymmetric key: P1363 (r||s) for ES256 unless DER is asked for. */
function asymmetricToken(algorithm: AsymmetricAlgorithm, header: object, payload: object, key: KeyObject, der = false): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signingKey = algorithm === 'ES256' ? { key, dsaEncoding: der ? ('der' as const) : ('ieee-p1363' as const) } : key;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), signingKey).toString('base64url')}`;
}

describe.each<AsymmetricAlgorithm>(['ES256', 'RS256'])('(d) %s key with a kid', (algorithm) => {
  const { privateKey, publicKey } = keyPair(algorithm);
  const other = keyPair(algorithm);
  let running: RunningTestApp;
  let token: string;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;

  beforeAll(async () => {
    running = await startTestApp({
      imports: [
        TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)),
        JwtRevocationModule.forRoot({ signing: { algorithm, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, kid: 'key-1' } }),
      ],
      controllers: [WhoController],
    });
    token = (await tokensOf(running).issue('asym-user')).accessToken;
    header = decodePart(token, 0);
    claims = decodePart(token, 1);
  });
  afterAll(async () => {
    await running?.close();
  });

  it('issues a token with the algorithm and kid in its header, and verifies it', async () => {
    expect(header).toEqual({ alg: algorithm, typ: 'at+jwt', kid: 'key-1' });
    const res = await running.http.get('/who').set(bearer(token)).expect(200);
    expect(res.body.sub).toBe('asym-user');
  });

  it('sanity: re-signing the same header and claims with the same key gives 200', async () => {
    await running.http.get('/who').set(bearer(asymmetricToken(algorithm, header, claims, privateKey))).expect(200);
  });

  it('a token naming another kid, properly signed with the same key, is 401', async () => {
    expect401(await running.http.get('/who').set(bearer(asymmetricToken(algorithm, { ...header, kid: 'key-2' }, claims, privateKey))));
  });

  it('a token with the right kid signed by another key pair is 401', async () => {
    expect401(await running.http.get('/who').set(bearer(asymmetricToken(algorithm, header, claims, other.privateKey))));
  });

  it('algorithm confusion: HS256 signed with the PEM public key as HMAC secret is 401', async () => {
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const kid of ['key-1', undefined]) {
      const forged = forge({ alg: 'HS256', typ: 'at+jwt', ...(kid ? { kid } : {}) }, claims, pem);
      expect401(await running.http.get('/who').set(bearer(forged)));
    }
    // Also with the DER bytes of the public key as the secret.
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims)}`;
    const forged = `${input}.${createHmac('sha256', der).update(input).digest('base64url')}`;
    expect401(await running.http.get('/who').set(bearer(forged)));
  });

  it('alg none with the right kid is 401', async () => {
    expect401(await running.http.get('/who').set(bearer(`${b64({ ...header, alg: 'none' })}.${b64(claims)}.`)));
  });

  if (algorithm === 'ES256') {
    it('an ES256 signature in DER instead of r||s is 401', async () => {
      expect401(await running.http.get('/who').set(bearer(asymmetricToken(algorithm, header, claims, privateKey, true))));
    });

    it('the "psychic signature" (r = s = 0, CVE-2022-21449) is 401', async () => {
      const zero = Buffer.alloc(64).toString('base64url');
      expect401(await running.http.get('/who').set(bearer(`${b64(header)}.${b64(claims)}.${zero}`)));
      // And in DER: SEQUENCE { INTEGER 0, INTEGER 0 }.
      const derZero = Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]).toString('base64url');
      expect401(await running.http.get('/who').set(bearer(`${b64(header)}.${b64(claims)}.${derZero}`)));
    });
  }
});

// ---------------------------------------------------------------- (e)

describe('(e) validateSubject hook', () => {
  let running: RunningTestApp;
  const blocked = new Set(['blocked']);
  const asked: string[] = [];

  const validateSubject = async (subject: string): Promise<boolean> => {
    asked.push(subject);
    if (subject === 'boom') throw new Error('database is down: do not leak this');
    if (subject === 'boom-async') return Promise.reject(new Error('async failure: do not leak this'));
    if (subject === 'forbidden') throw new ForbiddenException('Account suspended');
    if (subject === 'truthy') return 'yes' as unknown as boolean;
    return !blocked.has(subject);
  };

  beforeAll(async () => {
    running = await startTestApp({
      imports: [
        TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)),
        JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET }, validateSubject, validateSubjectCacheTtl: 0 }),
      ],
      controllers: [WhoController],
    });
  });
  afterAll(async () => {
    await running?.close();
  });

  const tokenFor = async (subject: string) => (await tokensOf(running).issue(subject)).accessToken;

  it('a subject the hook refuses gets 401; others get 200', async () => {
    expect401(await running.http.get('/who').set(bearer(await tokenFor('blocked'))));
    const res = await running.http.get('/who').set(bearer(await tokenFor('alice'))).expect(200);
    expect(res.body.sub).toBe('alice');
  });

  it('only a literal true allows: a truthy "yes" is 401', async () => {
    expect401(await running.http.get('/who').set(bearer(await tokenFor('truthy'))));
  });

  it('with validateSubjectCacheTtl 0 the hook is asked on every request', async () => {
    const token = await tokenFor('carol');
    await running.http.get('/who').set(bearer(token)).expect(200);
    blocked.add('carol');
    try {
      expect401(await running.http.get('/who').set(bearer(token)));
    } finally {
      blocked.delete('carol');
    }
    await running.http.get('/who').set(bearer(token)).expect(200);
    expect(asked.filter((s) => s === 'carol')).toHaveLength(3);
  });

  it.each(['boom', 'boom-async'])('a hook that fails with a plain Error (%s) gives 503, never 500, and leaks nothing', async (subject) => {
    const res = await running.http.get('/who').set(bearer(await tokenFor(subject)));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ statusCode: 503 });
    expect(JSON.stringify(res.body)).not.toMatch(/leak|database|async failure|stack|at /i);
  });

  it('a hook that throws an HttpException keeps its status (403 here)', async () => {
    const res = await running.http.get('/who').set(bearer(await tokenFor('forbidden')));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, message: 'Account suspended' });
  });
});

// ---------------------------------------------------------------- (f)

describe('(f) bootstrap fails on a wrong option, naming it', () => {
  const good = { signing: { secret: TEST_SECRET } };

  async function boot(options: unknown): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)),
        JwtRevocationModule.forRoot(options as JwtRevocationModuleOptions),
      ],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } finally {
      await app.close();
    }
  }

  async function bootAsync(options: unknown): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)),
        JwtRevocationModule.forRootAsync({ useFactory: async () => options as JwtRevocationModuleOptions }),
      ],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    await moduleRef.close();
  }

  it('control: the same base options boot', async () => {
    await expect(boot(good)).resolves.toBeUndefined();
  });

  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  it.each<[string, unknown, RegExp]>([
    ['an unknown top-level option', { ...good, foo: 1 }, /unknown option "foo"/],
    ['an unknown signing option', { signing: { secret: TEST_SECRET, secrt: 'x' } }, /unknown option "signing\.secrt"/],
    ['a 10-byte secret', { signing: { secret: '0123456789' } }, /signing\.secret is 10 bytes/],
    ['both secret and privateKey', { signing: { secret: TEST_SECRET, privateKey: rsa } }, /signing\.secret and signing\.privateKey/],
    ['algorithm EdDSA', { signing: { algorithm: 'EdDSA', privateKey: ed25519, kid: 'k' } }, /signing\.algorithm "EdDSA"/],
    ['tokenFrom with the header off and no cookie', { ...good, tokenFrom: { header: false } }, /"tokenFrom"/],
    ['an invalid cookie name', { ...good, tokenFrom: { cookie: 'a b' } }, /"tokenFrom\.cookie"/],
    ['validateSubjectCacheTtl without validateSubject', { ...good, validateSubjectCacheTtl: 5 }, /"validateSubjectCacheTtl"/],
    ['refreshTokenTtl shorter than accessTokenTtl', { ...good, accessTokenTtl: 600, refreshTokenTtl: 60 }, /"refreshTokenTtl"/],
    ['an asymmetric key without kid', { signing: { algorithm: 'RS256', privateKey: rsa } }, /signing\.kid/],
  ])('forRoot with %s', async (_name, options, message) => {
    const error = await boot(options).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('JwtRevocationOptionsError');
    expect((error as Error).message).toMatch(message);
  });

  it('forRootAsync: a factory returning an unknown option fails the same way', async () => {
    await expect(bootAsync({ ...good, foo: 1 })).rejects.toThrow(/unknown option "foo"/);
    await expect(bootAsync(good)).resolves.toBeUndefined();
  });
});

// ---------------------------------------------------------------- (g)

@Injectable()
class AppConfig {
  private readonly values: Record<string, string> = { JWT_SECRET: 'async-config-secret-that-is-at-least-32-bytes', ACCESS_TTL: '600' };
  get(key: string): string {
    const value = this.values[key];
    if (value === undefined) throw new Error(`no config ${key}`);
    return value;
  }
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class AppConfigModule {}

/** Uses the module's providers without importing JwtRevocationModule: works only if it is global. */
@Injectable()
class FeatureService {
  constructor(readonly tokens: TokenLogService) {}
}

@Controller('g')
@UseGuards(RevocableJwtGuard)
class FeatureController {
  @Get()
  who(@CurrentSubject() sub: string) {
    return { sub };
  }
}

@Module({ controllers: [FeatureController], providers: [FeatureService] })
class FeatureModule {}

describe('(g) forRootAsync with an injected config provider, isGlobal and custom table names', () => {
  const DATA_SOURCE = 'custom-tables';
  let running: RunningTestApp;
  const tableNames = { tokenLog: 'custom_log', tokenArchive: 'custom_archive', session: 'custom_session', subjectState: 'custom_subject_state' };

  beforeAll(async () => {
    running = await startTestApp({
      imports: [
        // A named data source: @nestjs/typeorm keeps autoLoadEntities' entity list in a static, per data source
        // name, so on the default name this app would also load the default-named tables of the apps above
        // (and the other apps would load these), and the two sets share entity names.
        TypeOrmModule.forRoot({ ...databaseOptions(`sqlite:${tempSqliteFile()}`), name: DATA_SOURCE }),
        JwtRevocationModule.forRootAsync({
          dataSource: DATA_SOURCE,
          imports: [AppConfigModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({ signing: { secret: config.get('JWT_SECRET') }, accessTokenTtl: Number(config.get('ACCESS_TTL')) }),
          isGlobal: true,
          tableNames,
        }),
        FeatureModule,
      ],
    });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('a module that does not import JwtRevocationModule gets TokenLogService (isGlobal), and issue works', async () => {
    const issued = await running.app.get(FeatureService).tokens.issue('global-user');
    expect(issued.expiresIn).toBe(600);
    await running.http.get('/g').set(bearer(issued.accessToken)).expect(200, { sub: 'global-user' });
    // Signed with the factory's secret: re-signing the claims with it reproduces the token.
    const header = decodePart(issued.accessToken, 0);
    const claims = decodePart(issued.accessToken, 1);
    expect(forge(header, claims, new AppConfig().get('JWT_SECRET'))).toBe(issued.accessToken);
    expect401(await running.http.get('/g').set(bearer(forge(header, claims, TEST_SECRET))));
  });

  it('the rows land in the custom tables, and the default ones do not exist', async () => {
    const issued = await running.app.get(FeatureService).tokens.issue('table-user');
    const source = running.app.get<DataSource>(getDataSourceToken(DATA_SOURCE));
    const log = (await source.query('SELECT jti, token_type FROM custom_log WHERE subject = ? ORDER BY token_type', ['table-user'])) as Array<{
      jti: string;
      token_type: string;
    }>;
    expect(log.map((r) => r.token_type)).toEqual(['access', 'refresh']);
    expect(log.find((r) => r.token_type === 'access')?.jti).toBe(issued.jti);
    const sessions = (await source.query('SELECT session_id FROM custom_session WHERE subject = ?', ['table-user'])) as Array<{ session_id: string }>;
    expect(sessions).toEqual([{ session_id: issued.sessionId }]);
    const tables = ((await source.query("SELECT name FROM sqlite_master WHERE type = 'table'")) as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(Object.values(tableNames)));
    for (const name of ['jwt_token_log', 'jwt_token_archive', 'jwt_session', 'jwt_subject_state']) expect(tables).not.toContain(name);
  });
});

// ---------------------------------------------------------------- (h)

@Controller('h')
@UseGuards(RevocableJwtGuard)
class LogoutController {
  @Post('logout-throws')
  @Logout()
  throws(): void {
    throw new BadRequestException('handler failed');
  }

  @Post('logout-rejects')
  @Logout()
  async rejects(): Promise<void> {
    await Promise.resolve();
    throw new BadRequestException('handler failed later');
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}

  @Get('claims')
  claims(@CurrentToken('sid') sid: string, @CurrentSubject() sub: string, @CurrentToken() token: VerifiedToken) {
    return { sid, sub, jti: token.jti, ver: token.ver };
  }
}

describe('(h) @Logout(), @CurrentToken() and @CurrentSubject()', () => {
  let running: RunningTestApp;
  beforeAll(async () => {
    running = await startTestApp({
      imports: [TypeOrmModule.forRoot(databaseOptions(`sqlite:${tempSqliteFile()}`)), JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET } })],
      controllers: [LogoutController],
    });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('@CurrentToken("sid") and @CurrentSubject() return the verified claims', async () => {
    const issued = await tokensOf(running).issue('claims-user');
    const res = await running.http.get('/h/claims').set(bearer(issued.accessToken)).expect(200);
    expect(res.body).toEqual({ sid: issued.sessionId, sub: 'claims-user', jti: issued.jti, ver: 0 });
  });

  it.each(['logout-throws', 'logout-rejects'])('a @Logout() handler that fails (%s) revokes nothing', async (route) => {
    const issued = await tokensOf(running).issue('fail-user');
    const res = await running.http.post(`/h/${route}`).set(bearer(issued.accessToken));
    expect(res.status).toBe(400);
    await running.http.get('/h/claims').set(bearer(issued.accessToken)).expect(200);
    const session = await tokensOf(running).findSession(issued.sessionId);
    expect(session?.revokedAt).toBeNull();
    expect(await tokensOf(running).refresh(issued.refreshToken)).toMatchObject({ sessionId: issued.sessionId });
  });

  it('a @Logout() handler that succeeds revokes the session (and only it)', async () => {
    const phone = await tokensOf(running).issue('ok-user');
    const laptop = await tokensOf(running).issue('ok-user');
    await running.http.post('/h/logout').set(bearer(phone.accessToken)).expect(204);
    expect401(await running.http.get('/h/claims').set(bearer(phone.accessToken)));
    const session = await tokensOf(running).findSession(phone.sessionId);
    expect(session?.revokedAt).toEqual(expect.any(Number));
    expect(session?.revokeReason).toBe('logout');
    await expect(tokensOf(running).refresh(phone.refreshToken)).rejects.toThrow('Invalid refresh token');
    await running.http.get('/h/claims').set(bearer(laptop.accessToken)).expect(200);
  });
});

// ---------------------------------------------------------------- (i)

/**
 * Another instance of the app on the same database, alive at the same time:
 * each module has its own passport instance, so the two cannot mix up their
 * strategies, keys or revocation state.
 */
async function otherInstance(file: string, options: JwtRevocationModuleOptions) {
  const other = await bootModule(databaseOptions(`sqlite:${file}`), options);
  return { tokens: other.tokens, close: () => other.close() };
}

describe('(i) allowlist mode across instances on one SQLite file', () => {
  const file = tempSqliteFile('jwt-revocation-allowlist-');
  const options: JwtRevocationModuleOptions = { signing: { secret: TEST_SECRET }, mode: 'allowlist' };
  let running: RunningTestApp | undefined;
  let other: Awaited<ReturnType<typeof otherInstance>>;

  const start = () =>
    startTestApp({
      imports: [TypeOrmModule.forRoot(databaseOptions(`sqlite:${file}`)), JwtRevocationModule.forRoot(options)],
      controllers: [WhoController],
    });

  beforeAll(async () => {
    running = await start();
    other = await otherInstance(file, options);
  });
  afterAll(async () => {
    await running?.close();
    await other?.close();
  });

  const app = () => running as RunningTestApp;
  const stats = () => app().app.get(RevocationState).stats();

  let own: Awaited<ReturnType<TokenLogService['issue']>>;
  let foreign: Awaited<ReturnType<TokenLogService['issue']>>;

  it('a token issued by this app works (from memory)', async () => {
    own = await tokensOf(app()).issue('own-user');
    const res = await app().http.get('/who').set(bearer(own.accessToken)).expect(200);
    expect(res.body.jti).toBe(own.jti);
  });

  it('a token issued by another instance after boot is accepted through the database fallback, then remembered', async () => {
    foreign = await other.tokens.issue('foreign-user');
    const before = stats().activeTokens;
    const res = await app().http.get('/who').set(bearer(foreign.accessToken)).expect(200);
    expect(res.body).toMatchObject({ sub: 'foreign-user', jti: foreign.jti });
    expect(stats().activeTokens).toBe(before + 1);
  });

  it('a validly signed token whose jti is not in the log is 401 (the fallback really asks)', async () => {
    const claims = { ...decodePart(own.accessToken, 1), jti: randomBytes(16).toString('base64url') };
    expect401(await app().http.get('/who').set(bearer(forge(decodePart(own.accessToken, 0), claims, TEST_SECRET))));
  });

  it('after revoke on the issuing app, that app rejects the token', async () => {
    expect(await tokensOf(app()).revoke(own.jti)).toBe(true);
    expect401(await app().http.get('/who').set(bearer(own.accessToken)));
    expect(await tokensOf(app()).revokeSession(foreign.sessionId)).toBe(true);
    expect401(await app().http.get('/who').set(bearer(foreign.accessToken)));
  });

  it('a second Nest app on the same file, started after the first is closed, loads the log: revoked stay out, active get in', async () => {
    const later = await other.tokens.issue('later-user');
    await app().close();
    running = undefined;
    running = await start();
    expect(stats().activeTokens).toBeGreaterThanOrEqual(1);
    expect401(await app().http.get('/who').set(bearer(own.accessToken)));
    expect401(await app().http.get('/who').set(bearer(foreign.accessToken)));
    const before = stats().activeTokens;
    await app().http.get('/who').set(bearer(later.accessToken)).expect(200);
    // Known from the boot load: no database look-up was needed.
    expect(stats().activeTokens).toBe(before);
  });
});
