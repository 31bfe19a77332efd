// Inside the generated Nest 11 app (CommonJS, Jest as `nest new` sets it up):
// the README's AppModule booted through @nestjs/testing, on a fresh database.
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TokenLogService } from 'nestjs-jwt-revocation';
import { SUPPORTED_PEERS } from 'nestjs-jwt-revocation/testing';
import { AppModule } from './app.module';

describe('nestjs-jwt-revocation under Jest in a CommonJS Nest 11 app', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('issues through the injected TokenLogService and refuses the token after @Logout()', async () => {
    const tokens = app.get(TokenLogService);
    const { accessToken } = await tokens.issue('jest-user');
    const auth = { authorization: `Bearer ${accessToken}` };

    const me = await request(app.getHttpServer()).get('/me').set(auth).expect(200);
    expect(me.body.user).toBe('jest-user');

    await request(app.getHttpServer()).post('/logout').set(auth).expect(204);
    const after = await request(app.getHttpServer()).get('/me').set(auth).expect(401);
    expect(after.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it("reads the supported peer ranges from the package's own package.json in the CommonJS build", () => {
    expect(SUPPORTED_PEERS['@nestjs/common']).toEqual(['^11', '^12']);
    expect(SUPPORTED_PEERS.typeorm).toEqual(['^0.3.20', '^1']);
  });

  it('logs in over HTTP with the demo password and refuses a wrong one', async () => {
    await request(app.getHttpServer())
      .post('/login')
      .send({ username: 'demo', password: process.env.DEMO_PASSWORD })
      .expect(200);
    await request(app.getHttpServer()).post('/login').send({ username: 'demo', password: 'wrong' }).expect(401);
  });
});
