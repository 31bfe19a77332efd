import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
import { registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';
import { jtiOf, sidOf } from '../support/sample-tokens.js';

/**
 * The value of a series in Prometheus's text format: the sum over the lines
 * of `name` whose labels include every one of `labels` (0 when none has).
 */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => given.includes(`${key}="${value}"`))) total += Number(match[3]);
  }
  return total;
}

eachDatabase('sample GET /metrics', (database) => {
  describe('without METRICS_TOKEN: this host only', () => {
    let sample: RunningSample;
    beforeAll(async () => {
      sample = await startSample(database().fresh());
    });
    afterAll(() => sample?.close());

    it('after a login, a refused token and a logout, the counters moved, and no user, token or id is in it', async () => {
      const scrape = async () => (await sample.http.get('/metrics').expect(200)).text;
      const before = await scrape();
      const username = `metrics_${Date.now().toString(36)}`;
      const session = await registerAndLogin(sample.http, username);
      await sample.http.get('/me').set('Authorization', 'Bearer not-a-token').expect(401);
      await sample.http.post('/auth/logout').set(session.auth).expect(204);
      await sample.http.get('/me').set(session.auth).expect(401);
      const res = await sample.http.get('/metrics').expect(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const after = res.text;

      const moved = (name: string, labels: Record<string, string> = {}) =>
        valueOf(after, name, labels) - valueOf(before, name, labels);
      expect(moved('jwt_revocation_tokens_issued_total', { jwt_revocation_issue_cause: 'login' })).toBe(1);
      expect(
        moved('jwt_revocation_revocations_total', {
          jwt_revocation_revocation_scope: 'session',
          jwt_revocation_revocation_reason: 'logout',
        }),
      ).toBe(1);
      expect(moved('jwt_revocation_guard_refusals_total', { jwt_revocation_refusal_cause: 'invalid' })).toBe(1);
      expect(moved('jwt_revocation_guard_refusals_total', { jwt_revocation_refusal_cause: 'revoked' })).toBe(1);
      expect(moved('jwt_revocation_store_duration_count', { jwt_revocation_store_operation: 'createSession' })).toBe(1);
      expect(valueOf(after, 'jwt_revocation_state_entries', { jwt_revocation_state_kind: 'revoked_session' })).toBe(
        valueOf(before, 'jwt_revocation_state_entries', { jwt_revocation_state_kind: 'revoked_session' }) + 1,
      );
      // This app's bus (an earlier app's series, in this process, keeps its last value).
      const mode = database().name === 'postgres' ? 'notify' : 'poll';
      expect(valueOf(after, 'jwt_revocation_bus_connected', { jwt_revocation_propagation_mode: mode })).toBe(1);

      for (const secret of [
        username,
        session.accessToken,
        session.refreshToken,
        jtiOf(session.accessToken),
        sidOf(session.accessToken),
      ])
        expect(after.includes(secret)).toBe(false);
    });

    it('a request that came through a proxy is refused with 403, even from loopback', async () => {
      for (const header of [{ 'X-Forwarded-For': '203.0.113.9' }, { Forwarded: 'for=203.0.113.9' }]) {
        const res = await sample.http.get('/metrics').set(header).expect(403);
        expect(res.body).toMatchObject({ statusCode: 403, message: expect.stringContaining('METRICS_TOKEN') });
      }
    });
  });

  describe('with METRICS_TOKEN: the scraper presents it', () => {
    const TOKEN = 'a-scraper-secret-of-some-length';
    let sample: RunningSample;
    beforeAll(async () => {
      sample = await startSample(database().fresh(), { metricsToken: TOKEN });
    });
    afterAll(() => sample?.close());

    it('200 with the token, from a proxy too; 401 with JSON without it or with another', async () => {
      await sample.http
        .get('/metrics')
        .set('Authorization', `Bearer ${TOKEN}`)
        .set('X-Forwarded-For', '203.0.113.9')
        .expect(200);
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
        const request = sample.http.get('/metrics');
        const res = await (auth === undefined ? request : request.set('Authorization', auth)).expect(401);
        expect(res.body).toMatchObject({ statusCode: 401, message: expect.stringContaining('METRICS_TOKEN') });
      }
    });
  });
});
