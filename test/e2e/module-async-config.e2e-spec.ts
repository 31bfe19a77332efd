import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CurrentSubject, JwtRevocationModule, RevocableJwtGuard, TokenLogService } from 'nestjs-jwt-revocation';
import { tempSqliteDatabase } from '../support/databases.js';
import { decodePart, forge } from '../support/forge.js';
import { bearer, expect401 } from '../support/http.js';
import { TEST_SECRET } from '../support/keys.js';
import { appForSuite } from '../support/suite-app.js';
import { eachAdapter, startTestApp } from '../support/test-app.js';

@Injectable()
class AppConfig {
  private readonly values: Record<string, string> = {
    JWT_SECRET: 'async-config-secret-that-is-at-least-32-bytes',
    ACCESS_TTL: '600',
  };
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

eachAdapter('forRootAsync set-up', (adapter) => {
  describe('forRootAsync with an injected config provider, isGlobal and custom table names', () => {
    const DATA_SOURCE = 'custom-tables';
    const tableNames = {
      tokenLog: 'custom_log',
      tokenArchive: 'custom_archive',
      session: 'custom_session',
      subjectState: 'custom_subject_state',
    };

    const running = appForSuite(() =>
      startTestApp(
        {
          imports: [
            // A named data source: @nestjs/typeorm keeps autoLoadEntities' entity list in a static, per data source
            // name, so on the default name this app would also load the default-named tables of any other app in
            // the process (and they would load these), and the two sets share entity names.
            TypeOrmModule.forRoot({ ...tempSqliteDatabase(), name: DATA_SOURCE }),
            JwtRevocationModule.forRootAsync({
              dataSource: DATA_SOURCE,
              imports: [AppConfigModule],
              inject: [AppConfig],
              useFactory: (config: AppConfig) => ({
                signing: { secret: config.get('JWT_SECRET') },
                accessTokenTtl: Number(config.get('ACCESS_TTL')),
              }),
              isGlobal: true,
              tableNames,
            }),
            FeatureModule,
          ],
        },
        { adapter },
      ),
    );

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
      const log = (await source.query('SELECT jti, token_type FROM custom_log WHERE subject = ? ORDER BY token_type', [
        'table-user',
      ])) as Array<{
        jti: string;
        token_type: string;
      }>;
      expect(log.map((r) => r.token_type)).toEqual(['access', 'refresh']);
      expect(log.find((r) => r.token_type === 'access')?.jti).toBe(issued.jti);
      const sessions = (await source.query('SELECT session_id FROM custom_session WHERE subject = ?', [
        'table-user',
      ])) as Array<{ session_id: string }>;
      expect(sessions).toEqual([{ session_id: issued.sessionId }]);
      const tables = (
        (await source.query("SELECT name FROM sqlite_master WHERE type = 'table'")) as Array<{ name: string }>
      ).map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(Object.values(tableNames)));
      for (const name of ['jwt_token_log', 'jwt_token_archive', 'jwt_session', 'jwt_subject_state'])
        expect(tables).not.toContain(name);
    });
  });
});
