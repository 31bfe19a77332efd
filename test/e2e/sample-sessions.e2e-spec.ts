import { afterEach, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import type { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { login, registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';
import { sleep } from '../support/time.js';

eachDatabase('sample session lifetimes', (database) => {
  let sample: RunningSample | undefined;
  afterEach(async () => {
    await sample?.close();
    sample = undefined;
  });

  it('SESSION_IDLE_TIMEOUT: a session left idle cannot be refreshed; one used meanwhile can', async () => {
    sample = await startSample(database().fresh(), { sessionIdleTimeout: 5 });
    const idle = await registerAndLogin(sample.http, 'idle.user');
    const busy = await login(sample.http, 'idle.user');
    await sleep(2600);
    // Any request through the guard counts as use, not only a refresh.
    await sample.http.get('/me').set(busy.auth).expect(200);
    await sleep(2600);
    // idle: last seen 5.2 s ago or more; busy: about 3.6 s ago at most (last-seen times are kept
    // to the second), which leaves a slow machine more than a second.
    const refused = await sample.http.post('/auth/refresh').send({ refreshToken: idle.refreshToken }).expect(401);
    expect(refused.body).toMatchObject({ statusCode: 401 });
    await sample.http.post('/auth/refresh').send({ refreshToken: busy.refreshToken }).expect(200);
  });

  it('SESSION_MAX_LIFETIME: past it, no refresh, however busy the session', async () => {
    // The idle timeout is the sample's 7 days, and the session's creation is moved back in the database
    // while its tokens keep their own expiry: only the max lifetime can refuse the refresh.
    sample = await startSample(database().fresh(), { accessTokenTtl: 60, sessionMaxLifetime: 600 });
    const user = await registerAndLogin(sample.http, 'max.user');
    const first = await sample.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    const sessions = sample.app.get<DataSource>(getDataSourceToken()).getRepository(jwtRevocationEntitySet().session);
    const sessionId = decodePart(first.body.accessToken, 1).sid as string;
    const { createdAt } = await sessions.findOneByOrFail({ sessionId });
    await sessions.update({ sessionId }, { createdAt: createdAt - 601_000 });
    // Busy: its access token still passes the guard, and it was refreshed a moment ago.
    await sample.http.get('/me').set('Authorization', `Bearer ${first.body.accessToken}`).expect(200);
    await sample.http.post('/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(401);
  });
});
