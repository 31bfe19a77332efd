import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Inject, Injectable, Module, NotImplementedException, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  CurrentToken,
  JwtRevocationModule,
  Logout,
  RevocableJwtGuard,
  TokenLogService,
  TokenStore,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { InMemoryTokenStore } from 'nestjs-jwt-revocation/testing';
import { testLogs } from '../support/logs.js';
import { TEST_SECRET } from '../support/sample-app.js';
import { startTestApp, type RunningTestApp } from '../support/test-app.js';

@Controller()
class AccountController {
  constructor(private readonly tokens: TokenLogService) {}

  @Get('me')
  me(@CurrentToken() token: VerifiedToken) {
    return { sub: token.sub };
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}
}

const STORE_LABEL = Symbol('STORE_LABEL');

@Module({ providers: [{ provide: STORE_LABEL, useValue: 'mine' }], exports: [STORE_LABEL] })
class LabelModule {}

/** A store of the app's own that Nest builds with the app's providers: here, the in-memory one, labelled. */
@Injectable()
class LabelledStore extends InMemoryTokenStore {
  constructor(@Inject(STORE_LABEL) readonly label: string) {
    super();
  }
}

/** A store written before the audit trail: it inherits TokenStore's refusing defaults. */
@Injectable()
class TrailLessStore extends InMemoryTokenStore {
  override listSecurityEvents = TokenStore.prototype.listSecurityEvents;
  override recordSecurityEvent = TokenStore.prototype.recordSecurityEvent;
}

/** The `store` option: the module on a store of the app's own, with no TypeORM and no database at all. */
describe('JwtRevocationModule with a store of its own (no TypeORM)', () => {
  let running: RunningTestApp;

  beforeAll(async () => {
    running = await startTestApp({
      imports: [
        JwtRevocationModule.forRoot({
          signing: { secret: TEST_SECRET },
          archiveInterval: 0,
          store: InMemoryTokenStore,
        }),
      ],
      controllers: [AccountController],
      providers: [{ provide: APP_GUARD, useClass: RevocableJwtGuard }],
    });
  });

  afterAll(() => running?.close());

  it('issues, guards, refreshes and revokes on that store', async () => {
    const tokens = running.app.get(TokenLogService);
    const pair = await tokens.issue('own.ada');
    await running.http.get('/me').set('Authorization', `Bearer ${pair.accessToken}`).expect(200, { sub: 'own.ada' });
    const next = await tokens.refresh(pair.refreshToken);
    await running.http.post('/logout').set('Authorization', `Bearer ${next.accessToken}`).expect(204);
    await running.http.get('/me').set('Authorization', `Bearer ${next.accessToken}`).expect(401);
    await expect(tokens.refresh(next.refreshToken)).rejects.toMatchObject({ status: 401 });
  });

  it('Nest builds the store class, and it may inject the app’s providers (through forRootAsync imports)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        JwtRevocationModule.forRootAsync({
          imports: [LabelModule],
          useFactory: () => ({ signing: { secret: TEST_SECRET }, archiveInterval: 0 }),
          store: LabelledStore,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const store = app.get(TokenStore);
      expect(store).toBeInstanceOf(LabelledStore);
      expect((store as LabelledStore).label).toBe('mine');
      await expect(app.get(TokenLogService).issue('own.bob')).resolves.toMatchObject({ sessionId: expect.any(String) });
    } finally {
      await app.close();
    }
  });

  it('a store that keeps no security events: a warning at boot, securityEvents() a JSON 501, and revocations and key retirement still work', async () => {
    testLogs.expect(/keeps no security events/);
    const moduleRef = await Test.createTestingModule({
      imports: [
        JwtRevocationModule.forRoot({
          signing: {
            keys: [
              { kid: 'k-a', secret: `${TEST_SECRET}-a` },
              { kid: 'k-b', secret: `${TEST_SECRET}-b` },
            ],
          },
          archiveInterval: 0,
          store: TrailLessStore,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: testLogs });
    await app.init();
    try {
      expect(testLogs.take(/keeps no security events/)).toEqual([
        expect.objectContaining({ level: 'warn', message: expect.stringContaining('TrailLessStore') }),
      ]);
      const tokens = app.get(TokenLogService);
      const pair = await tokens.issue('own.cleo');
      await expect(tokens.revokeSession(pair.sessionId, 'logout', { ip: '192.0.2.1' })).resolves.toBe(true);
      const refused = tokens.securityEvents({ subject: 'own.cleo' });
      await expect(refused).rejects.toBeInstanceOf(NotImplementedException);
      await expect(refused.catch((e: NotImplementedException) => e.getResponse())).resolves.toEqual({
        statusCode: 501,
        message: 'TrailLessStore keeps no security events',
        error: 'Not Implemented',
      });
      await expect(tokens.retireKey('k-b')).resolves.toBe(true);
    } finally {
      await app.close();
    }
  });

  it('refuses LISTEN/NOTIFY propagation without a data source, naming the option', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [
        JwtRevocationModule.forRoot({
          signing: { secret: TEST_SECRET },
          store: InMemoryTokenStore,
          propagation: 'notify',
        }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toThrow(
      /option "propagation" is 'notify' but the module has a store of its own/,
    );
  });
});
