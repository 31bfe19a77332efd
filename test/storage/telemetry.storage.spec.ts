import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { METRIC_NAMES, TokenLogService, TokenStore, type IssuedTokens } from 'nestjs-jwt-revocation';
import { RevocationState } from 'nestjs-jwt-revocation/testing';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { testLogs } from '../support/logs.js';
import { appForSuite } from '../support/suite-app.js';
import { until } from '../support/time.js';

/** A reader the test collects from when it wants, as a Prometheus scrape would. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

type Attributes = Record<string, unknown>;
interface Point {
  attributes: Attributes;
  value: unknown;
}

/** Every data point of the module's metrics, by metric name. */
async function collect(reader: TestReader): Promise<Map<string, Point[]>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const byName = new Map<string, Point[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== 'nestjs-jwt-revocation') continue;
    for (const metric of scope.metrics)
      byName.set(
        metric.descriptor.name,
        (metric.dataPoints as DataPoint<unknown>[]).map((p) => ({ attributes: p.attributes, value: p.value })),
      );
  }
  return byName;
}

/** The counter's value for the points whose attributes include `where` (0 when there are none). */
function sum(points: Map<string, Point[]>, name: string, where: Attributes = {}): number {
  return (points.get(name) ?? [])
    .filter((p) => Object.entries(where).every(([key, value]) => p.attributes[key] === value))
    .reduce((total, p) => total + (p.value as number), 0);
}

const ISSUE = 'jwt_revocation.issue.cause';
const SCOPE = 'jwt_revocation.revocation.scope';
const REASON = 'jwt_revocation.revocation.reason';
const CAUSE = 'jwt_revocation.refusal.cause';

/** Tokens of 2 s renewed in their last second, no clock tolerance, no grace: the test waits out each in turn. */
const OPTIONS = {
  accessTokenTtl: 2,
  refreshTokenTtl: 60,
  clockTolerance: 0,
  archiveSafetyMargin: 0,
  archiveInterval: 0,
  refreshReuseGrace: 0,
  slidingRenewal: { threshold: 1 },
  // The hook fails for one subject: the guard's answer is a 503, counted as unavailable.
  validateSubject: (subject: string) => {
    if (subject.endsWith('.hook-down')) throw new Error('user service down');
    return true;
  },
  validateSubjectCacheTtl: 0,
};

const claimsOf = (token: string) => decodePart(token, 1) as { iat: number; exp: number; jti: string; sid: string };

eachDatabase('OpenTelemetry metrics and traces', (database) => {
  const db = database();
  const reader = new TestReader();
  const spans = new InMemorySpanExporter();

  describe('with an SDK registered before the app starts', () => {
    // A provider of this suite's own: the previous database's suite registered another.
    beforeAll(() => {
      metrics.disable();
      trace.disable();
      context.disable();
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    });
    const app = appForSuite(() => bootProbeApp(db.fresh(), OPTIONS));
    const run = randomBytes(3).toString('hex');
    const handedOut: string[] = [];
    const keep = (...tokens: IssuedTokens[]) => {
      for (const t of tokens) handedOut.push(t.accessToken, t.refreshToken, t.jti, t.sessionId);
      return tokens[0];
    };

    it('each counter moves after the action that should move it', async () => {
      testLogs.expect(/token check failed: user service down/);
      const tokens = app.get(TokenLogService);
      const subject = `metrics.${run}`;
      handedOut.push(subject);
      const first = keep(await tokens.issue(subject));
      let seen = await collect(reader);
      expect(sum(seen, METRIC_NAMES.tokensIssued, { [ISSUE]: 'login' })).toBe(1);

      // Due in its last second: the guard renews it.
      await until((claimsOf(first.accessToken).exp - 1) * 1000);
      const renewed = await request(app.getHttpServer())
        .get('/probe')
        .set('Authorization', `Bearer ${first.accessToken}`)
        .expect(200);
      handedOut.push(renewed.headers['x-renewed-access-token'] as string);
      const refreshed = keep(await tokens.refresh(first.refreshToken));
      seen = await collect(reader);
      expect(sum(seen, METRIC_NAMES.tokensIssued, { [ISSUE]: 'renewal' })).toBe(1);
      expect(sum(seen, METRIC_NAMES.tokensIssued, { [ISSUE]: 'refresh' })).toBe(1);

      // The guard's refusals, one of each cause.
      await request(app.getHttpServer()).get('/probe').expect(401);
      expect(await probe(app, 'not-a-token')).toBe(401);
      await until(claimsOf(first.accessToken).exp * 1000);
      expect(await probe(app, first.accessToken)).toBe(401);
      await tokens.revoke(refreshed.accessToken);
      expect(await probe(app, refreshed.accessToken)).toBe(401);
      const state = app.get(RevocationState);
      state.trustUntil(Date.now() - 1);
      const live = keep(await tokens.issue(`${subject}.live`));
      handedOut.push(`${subject}.live`);
      expect(await probe(app, live.accessToken)).toBe(503);
      state.trustUntil(Infinity);
      const down = keep(await tokens.issue(`${subject}.hook-down`));
      handedOut.push(`${subject}.hook-down`);
      expect(await probe(app, down.accessToken)).toBe(503);
      seen = await collect(reader);
      for (const cause of ['missing', 'invalid', 'expired', 'revoked', 'stale', 'unavailable'])
        expect([cause, sum(seen, METRIC_NAMES.refusals, { [CAUSE]: cause })]).toEqual([cause, 1]);

      // Revocations by scope and reason, and reuse: the spent refresh token again.
      await expect(tokens.refresh(first.refreshToken)).rejects.toMatchObject({ status: 401 });
      await tokens.revokeSession(live.sessionId);
      await tokens.revokeAllForSubject(`${subject}.hook-down`);
      seen = await collect(reader);
      expect(sum(seen, METRIC_NAMES.reuseDetected)).toBe(1);
      expect(sum(seen, METRIC_NAMES.revocations, { [SCOPE]: 'token', [REASON]: 'logout' })).toBe(1);
      expect(sum(seen, METRIC_NAMES.revocations, { [SCOPE]: 'session', [REASON]: 'refresh_reuse' })).toBe(1);
      expect(sum(seen, METRIC_NAMES.revocations, { [SCOPE]: 'session', [REASON]: 'session_revoked' })).toBe(1);
      expect(sum(seen, METRIC_NAMES.revocations, { [SCOPE]: 'subject', [REASON]: 'logout_all' })).toBe(1);

      // The archive: the login's access token expired; a sweep moves its row.
      const swept = await tokens.archiveExpired();
      expect(swept.archived).toBeGreaterThan(0);
      seen = await collect(reader);
      expect(sum(seen, METRIC_NAMES.sweeps, { 'jwt_revocation.sweep.outcome': 'completed' })).toBe(1);
      expect(sum(seen, METRIC_NAMES.archiveRows, { 'jwt_revocation.archive.action': 'archived' })).toBe(swept.archived);
    }, 30_000);

    it('the gauges read the revocation state and the sync when collected', async () => {
      const seen = await collect(reader);
      const stats = app.get(RevocationState).stats();
      const kind = 'jwt_revocation.state.kind';
      expect(sum(seen, METRIC_NAMES.stateEntries, { [kind]: 'revoked_token' })).toBe(stats.revokedTokens);
      expect(sum(seen, METRIC_NAMES.stateEntries, { [kind]: 'revoked_session' })).toBe(stats.revokedSessions);
      expect(sum(seen, METRIC_NAMES.stateEntries, { [kind]: 'revoked_subject' })).toBe(stats.subjects);
      expect(stats.revokedTokens + stats.revokedSessions + stats.subjects).toBeGreaterThan(2);
      const [lag] = seen.get(METRIC_NAMES.syncLag) ?? [];
      expect(lag.value as number).toBeGreaterThanOrEqual(0);
      expect(lag.value as number).toBeLessThan(30);
      const [bus] = seen.get(METRIC_NAMES.busConnected) ?? [];
      expect(bus).toEqual({
        attributes: { 'jwt_revocation.propagation.mode': db.name === 'postgres' ? 'notify' : 'poll' },
        value: 1,
      });
    });

    it('every store call is timed by operation, and a failed one says how it failed', async () => {
      const store = app.get(TokenStore);
      await expect(store.sweep(() => Promise.reject(new RangeError('the work failed')))).rejects.toThrow(RangeError);
      const seen = await collect(reader);
      const durations = seen.get(METRIC_NAMES.storeDuration) ?? [];
      const operations = new Set(durations.map((p) => p.attributes['jwt_revocation.store.operation']));
      for (const operation of ['createSession', 'rotate', 'renewAccess', 'revokeToken', 'revokeSubject', 'sweep'])
        expect([operation, operations.has(operation)]).toEqual([operation, true]);
      const failed = durations.filter((p) => p.attributes['error.type'] !== undefined);
      expect(failed.map((p) => p.attributes)).toEqual([
        { 'jwt_revocation.store.operation': 'sweep', 'error.type': 'RangeError' },
      ]);
      expect((failed[0].value as Histogram).count).toBe(1);
    });

    it('a login, a refresh and a sweep are spans, with their store calls (and the driver under those) inside', async () => {
      const finished = spans.getFinishedSpans();
      const named = (name: string) => finished.filter((s) => s.name === name);
      const childOf = (parent: string, child: string) => {
        const parents = named(parent).map((s) => s.spanContext().spanId);
        return named(child).some((s) => parents.includes(s.parentSpanContext?.spanId as string));
      };
      expect(childOf('jwt_revocation.issue', 'jwt_revocation.store.createSession')).toBe(true);
      expect(childOf('jwt_revocation.refresh', 'jwt_revocation.store.rotate')).toBe(true);
      expect(childOf('jwt_revocation.renewal', 'jwt_revocation.store.renewAccess')).toBe(true);
      expect(childOf('jwt_revocation.archive.sweep', 'jwt_revocation.store.sweep')).toBe(true);
      // The failed call above: marked failed, by the error's class, not its message.
      const [failed] = named('jwt_revocation.store.sweep').filter((s) => s.status.code === 2);
      expect(failed.attributes['error.type']).toBe('RangeError');
      expect(failed.status.message).toBeUndefined();
      expect(failed.events).toEqual([]);
    });

    it('no attribute of any metric or span holds a token, a jti, a session id or a subject', async () => {
      const seen = await collect(reader);
      const values = [
        ...[...seen.values()].flatMap((points) => points.flatMap((p) => Object.values(p.attributes))),
        ...spans.getFinishedSpans().flatMap((s) => Object.values(s.attributes)),
      ].map(String);
      expect(values.length).toBeGreaterThan(20);
      const secrets = handedOut.filter((s) => typeof s === 'string' && s.length > 0);
      expect(secrets.length).toBeGreaterThan(10);
      for (const value of values) for (const secret of secrets) expect(value.includes(secret)).toBe(false);
    });
  });
});
