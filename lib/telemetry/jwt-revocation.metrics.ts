import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RevocationSync } from '../propagation/revocation-sync.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { TokenEvents, type TokenEvent } from '../tokens/token-events.js';
import type { CounterLike, ObservableGaugeLike, ObservableResultLike } from './telemetry.js';
import { Telemetry } from './telemetry.js';

/** The module's metric names (README "Metrics and traces" lists them with their attributes). */
export const METRIC_NAMES = {
  tokensIssued: 'jwt_revocation.tokens.issued',
  revocations: 'jwt_revocation.revocations',
  reuseDetected: 'jwt_revocation.refresh.reuse_detected',
  refusals: 'jwt_revocation.guard.refusals',
  sweeps: 'jwt_revocation.archive.sweeps',
  archiveRows: 'jwt_revocation.archive.rows',
  stateEntries: 'jwt_revocation.state.entries',
  syncLag: 'jwt_revocation.sync.lag',
  busConnected: 'jwt_revocation.bus.connected',
  storeDuration: 'jwt_revocation.store.duration',
} as const;

/**
 * Why the guard (or the passport strategy) refused a request's token:
 * missing, invalid (signature, claims, an unknown key), expired, revoked
 * (token, session, subject, allowlist, `validateSubject`), stale (the state
 * is older than `maxStaleness`, 503) or unavailable (the store or the app's
 * hook failed, 503).
 */
export type RefusalCause = 'missing' | 'invalid' | 'expired' | 'revoked' | 'stale' | 'unavailable';

/** What an archive sweep did: it ran, another instance held the lock, or it failed. */
export type SweepOutcome = 'completed' | 'skipped' | 'failed';

/**
 * The module's metrics, through OpenTelemetry (see `Telemetry`). Counters
 * follow the token events (issued, refreshed, renewed, revoked, reuse), the
 * guard's refusals and the archive; gauges are read from the revocation
 * state and the sync when the app's reader collects. No attribute holds a
 * token, a jti, a session id or a subject: those would make a series per
 * user (and put them in the metrics backend).
 */
@Injectable()
export class JwtRevocationMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly issued: CounterLike;
  private readonly revocations: CounterLike;
  private readonly reuse: CounterLike;
  private readonly refusals: CounterLike;
  private readonly sweeps: CounterLike;
  private readonly archiveRows: CounterLike;
  private readonly gauges: Array<[ObservableGaugeLike, (result: ObservableResultLike) => void]>;
  private unsubscribe?: () => void;

  constructor(
    telemetry: Telemetry,
    private readonly events: TokenEvents,
    private readonly state: RevocationState,
    private readonly sync: RevocationSync,
  ) {
    const { meter } = telemetry;
    this.issued = meter.createCounter(METRIC_NAMES.tokensIssued, {
      description: 'Access tokens issued, by what issued them: a login, a refresh or a sliding renewal',
      unit: '{token}',
    });
    this.revocations = meter.createCounter(METRIC_NAMES.revocations, {
      description: 'Revocations written, by scope (token, session, subject) and reason',
      unit: '{revocation}',
    });
    this.reuse = meter.createCounter(METRIC_NAMES.reuseDetected, {
      description: 'Spent refresh tokens presented again that revoked their session: likely theft',
      unit: '{event}',
    });
    this.refusals = meter.createCounter(METRIC_NAMES.refusals, {
      description: 'Requests whose access token was refused, by cause',
      unit: '{request}',
    });
    this.sweeps = meter.createCounter(METRIC_NAMES.sweeps, {
      description: 'Archive sweeps on this instance, by outcome',
      unit: '{sweep}',
    });
    this.archiveRows = meter.createCounter(METRIC_NAMES.archiveRows, {
      description:
        'Rows the archive sweep wrote off, by action: token rows archived, archive rows purged, sessions dropped',
      unit: '{row}',
    });
    const entries = meter.createObservableGauge(METRIC_NAMES.stateEntries, {
      description: "Entries in this instance's in-memory revocation state, by kind",
      unit: '{entry}',
    });
    const lag = meter.createObservableGauge(METRIC_NAMES.syncLag, {
      description: 'Seconds since this instance last confirmed its revocation state against the database',
      unit: 's',
    });
    const bus = meter.createObservableGauge(METRIC_NAMES.busConnected, {
      description: 'Whether the propagation bus is connected (1) or not (0), by mode',
      unit: '1',
    });
    this.gauges = [
      [
        entries,
        (result) => {
          const stats = this.state.stats();
          result.observe(stats.revokedTokens, { 'jwt_revocation.state.kind': 'revoked_token' });
          result.observe(stats.revokedSessions, { 'jwt_revocation.state.kind': 'revoked_session' });
          result.observe(stats.subjects, { 'jwt_revocation.state.kind': 'revoked_subject' });
          result.observe(stats.activeTokens, { 'jwt_revocation.state.kind': 'active_token' });
        },
      ],
      [lag, (result) => result.observe(this.sync.status().lag / 1000)],
      [
        bus,
        (result) => {
          const status = this.sync.status();
          result.observe(status.busConnected ? 1 : 0, { 'jwt_revocation.propagation.mode': status.mode });
        },
      ],
    ];
  }

  onModuleInit(): void {
    this.unsubscribe = this.events.subscribe((event) => this.count(event));
    for (const [gauge, callback] of this.gauges) gauge.addCallback(callback);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    for (const [gauge, callback] of this.gauges) gauge.removeCallback(callback);
  }

  /** A request's token refused by the guard or the passport strategy. */
  refused(cause: RefusalCause): void {
    this.refusals.add(1, { 'jwt_revocation.refusal.cause': cause });
  }

  /** An archive sweep's outcome, and the rows it moved, purged and dropped. */
  swept(
    outcome: SweepOutcome,
    rows?: { archived: number; purgedArchive: number; purgedSessions: number; purgedSecurityEvents: number },
  ): void {
    this.sweeps.add(1, { 'jwt_revocation.sweep.outcome': outcome });
    const actions: Array<[string, number]> = rows
      ? [
          ['archived', rows.archived],
          ['purged', rows.purgedArchive],
          ['session_dropped', rows.purgedSessions],
          ['security_event_purged', rows.purgedSecurityEvents],
        ]
      : [];
    for (const [action, count] of actions)
      if (count > 0) this.archiveRows.add(count, { 'jwt_revocation.archive.action': action });
  }

  private count(event: TokenEvent): void {
    switch (event.type) {
      case 'issued':
        return this.issued.add(1, { 'jwt_revocation.issue.cause': 'login' });
      case 'refreshed':
        return this.issued.add(1, { 'jwt_revocation.issue.cause': 'refresh' });
      case 'renewed':
        return this.issued.add(1, { 'jwt_revocation.issue.cause': 'renewal' });
      case 'revoked':
        return this.revocations.add(1, {
          'jwt_revocation.revocation.scope': event.scope,
          'jwt_revocation.revocation.reason': event.reason,
        });
      case 'reuse_detected':
        return this.reuse.add(1);
    }
  }
}
