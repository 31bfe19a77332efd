import { afterEach, expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
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
    // The lifetime may not be shorter than an access token's.
    sample = await startSample(database().fresh(), { accessTokenTtl: 2, sessionMaxLifetime: 2 });
    const user = await registerAndLogin(sample.http, 'max.user');
    const first = await sample.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await sleep(2200);
    await sample.http.post('/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(401);
  });
});
