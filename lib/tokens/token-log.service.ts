import { BadRequestException, HttpException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { CredentialsChangedException } from '../errors/credentials-changed.exception.js';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import { StaleStateException } from '../errors/stale-state.exception.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { SessionActivity } from '../request/session-activity.js';
import { SubjectValidator } from '../request/subject-validator.js';
import { ArchiveSweeper, type ArchiveOptions, type ArchiveResult } from '../archive/archive-sweeper.js';
import { RefreshSuccessor } from './refresh-successor.js';
import { RevocationSync } from '../propagation/revocation-sync.js';
import { checkAccessToken } from './token-claims.js';
import { TokenCodec } from './token-codec.js';
import { TokenEvents } from './token-events.js';
import type { IntrospectionResponse, IssueContext, IssuedTokens } from '../interfaces/issued-tokens.interface.js';
import { REVOKE_REASONS, type RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { SessionPage, SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';
import { TokenStore } from '../storage/token-store.interface.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';

/** Claims the module sets itself; `issue()` refuses custom claims by these names. */
const RESERVED_CLAIMS = new Set(['sub', 'jti', 'sid', 'ver', 'iat', 'exp', 'nbf', 'iss', 'aud']);
const MAX_CLAIMS_JSON = 4096;

const newId = () => randomBytes(16).toString('base64url');
const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

const MAX_SESSION_PAGE = 100;

/** A `listSessions` cursor: the last session of a page, opaque to the client. */
function encodeCursor(session: SessionRecord): string {
  return Buffer.from(JSON.stringify([session.createdAt, session.sessionId])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; sessionId: string } {
  try {
    const [createdAt, sessionId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(createdAt) && typeof sessionId === 'string' && sessionId.length <= 64) return { createdAt: createdAt as number, sessionId };
  } catch {
    // falls through to the 400
  }
  throw new BadRequestException({ statusCode: 400, message: 'cursor is not one this service handed out', error: 'Bad Request' });
}

function assertSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) {
    throw new TypeError('subject must be a string of 1 to 255 characters');
  }
}

function assertReason(reason: unknown): asserts reason is RevokeReason {
  if (!(REVOKE_REASONS as readonly unknown[]).includes(reason)) {
    throw new TypeError(`unknown revoke reason "${String(reason)}" (one of ${REVOKE_REASONS.join(', ')})`);
  }
}

function clip(value: string | undefined, max: number): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;
}

/**
 * The app's handle on tokens: issue, refresh, revoke, look up. Every write
 * reaches the database before the call returns; the in-memory revocation
 * state is updated right after, so the next request on this instance already
 * sees it.
 */
@Injectable()
export class TokenLogService {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    private readonly codec: TokenCodec,
    private readonly subjects: SubjectValidator,
    private readonly activity: SessionActivity,
    private readonly events: TokenEvents,
    private readonly sweeper: ArchiveSweeper,
    private readonly sync: RevocationSync,
    private readonly successor: RefreshSuccessor,
  ) {}

  private readonly logger = new Logger('JwtRevocation');

  /**
   * A database failure becomes a 503: a revoke that could not be written
   * fails loudly instead of looking like a success, and never as a 500.
   */
  private stored<T>(work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      if (error instanceof HttpException) throw error;
      this.logger.error(`token store failed: ${(error as Error)?.message ?? String(error)}`);
      throw new ServiceUnavailableException({ statusCode: 503, message: 'Token store unavailable, retry shortly', error: 'Service Unavailable' });
    });
  }

  /**
   * Moves expired rows from the log to the archive now, in batches (see
   * `ArchiveSweeper`). Idempotent; `ran: false` when another instance holds
   * the sweep.
   */
  archiveExpired(options: ArchiveOptions = {}): Promise<ArchiveResult> {
    return this.stored(this.sweeper.run(options));
  }

  /**
   * Token rows of the log and the archive together, newest first: a
   * subject's or a session's tokens, or those valid at a given time ("which
   * devices held a valid token at T"). At most `limit` rows (default 1000).
   */
  history(query: { subject?: string; sessionId?: string; validAt?: Date; limit?: number }): Promise<Array<TokenRecord & { archivedAt: number | null }>> {
    if (query.subject === undefined && query.sessionId === undefined && query.validAt === undefined) {
      throw new TypeError('history() needs a subject, a sessionId or validAt');
    }
    const limit = query.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive whole number');
    return this.stored(this.store.findHistory({ subject: query.subject, sessionId: query.sessionId, validAt: query.validAt?.getTime(), limit }));
  }

  /**
   * The subject's epoch: it moves with every subject-wide revocation
   * (`revokeAllForSubject`, `revokeOtherSessions`). Read it before reading
   * the credentials you check, and hand it to `issue()` in `context.epoch`:
   * a login racing a password change then cannot outlive it.
   */
  subjectEpoch(subject: string): Promise<number> {
    assertSubject(subject);
    return this.stored(this.store.subjectEpoch(subject));
  }

  /**
   * Starts a session: signs an access token, creates a refresh token, and
   * writes both to the token log before returning them. With
   * `context.epoch`, refuses (401, `CredentialsChangedException`) when a
   * subject-wide revocation happened since that epoch was read. Past
   * `maxSessionsPerSubject`, the subject's oldest sessions are revoked.
   */
  async issue(subject: string, claims: Record<string, unknown> = {}, context: IssueContext = {}): Promise<IssuedTokens> {
    assertSubject(subject);
    if (context.epoch !== undefined && !Number.isSafeInteger(context.epoch)) throw new TypeError('context.epoch must be a number from subjectEpoch()');
    const custom = this.customClaims(claims);
    const now = Date.now();
    const sessionId = newId();
    const end = this.sessionEnd(now);
    const access = this.accessRow(subject, sessionId, now, custom, context, null, end);
    const refreshToken = randomBytes(32).toString('base64url');
    const refresh = { ...this.refreshRow(subject, sessionId, now, custom, context, null, end), tokenHash: hashRefreshToken(refreshToken) };
    const session: SessionRecord = {
      sessionId,
      subject,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: refresh.expiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: access.userAgent,
      ip: access.ip,
    };
    const created = await this.stored(
      this.store.createSession({ session, tokens: [access, refresh], epoch: context.epoch ?? null, maxSessions: this.config.maxSessionsPerSubject }),
    );
    if (!created.created) throw new CredentialsChangedException();
    for (const event of created.evicted) this.sessionRevoked(event, 'session_limit');
    this.events.emit({ type: 'issued', subject, sessionId, jti: access.jti });
    return this.handOut(access, created.subjectVersion, refreshToken, refresh.expiresAt);
  }

  /**
   * Exchanges a refresh token for a new pair in the same session; the old one
   * is spent. Within `refreshReuseGrace` seconds, the immediately previous
   * token gets the same new pair again (a retry, or two tabs at once). Any
   * other spent token is reuse: the whole session is revoked. Throws a 401
   * (`InvalidTokenException`) for every token that yields no pair.
   */
  async refresh(refreshToken: string, context: IssueContext = {}): Promise<IssuedTokens> {
    if (typeof refreshToken !== 'string' || refreshToken.length === 0 || refreshToken.length > 256) {
      throw new InvalidTokenException('Invalid refresh token');
    }
    const now = Date.now();
    const { sessionMaxLifetime, sessionIdleTimeout } = this.config;
    let pending: { access: Omit<TokenRecord, 'subjectVersion'>; refresh: Omit<TokenRecord, 'subjectVersion'>; token: string } | undefined;
    // The idle timeout counts requests through the guard too: write this instance's last-seen times first.
    if (sessionIdleTimeout !== undefined) await this.activity.flush();
    const result = await this.stored(this.store.rotate({
      tokenHash: hashRefreshToken(refreshToken),
      now,
      createdAfter: sessionMaxLifetime === undefined ? null : now - sessionMaxLifetime * 1000,
      seenAfter: sessionIdleTimeout === undefined ? null : now - sessionIdleTimeout * 1000,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      next: (presented, session) => {
        // The session's absolute end caps both tokens: the grace window and a late refresh never extend it.
        const end = this.sessionEnd(session.createdAt);
        const access = this.accessRow(presented.subject, presented.sessionId, now, presented.claims, context, presented.jti, end);
        const refresh = this.refreshRow(presented.subject, presented.sessionId, now, presented.claims, context, presented.jti, end);
        const token = this.successor.of(refreshToken, presented.jti);
        refresh.tokenHash = hashRefreshToken(token);
        pending = { access, refresh, token };
        return [access, refresh];
      },
    }));
    if (result.outcome === 'rotated' && pending) {
      const { access, refresh, token } = pending;
      this.events.emit({ type: 'refreshed', subject: access.subject, sessionId: access.sessionId, jti: access.jti, parentJti: refresh.parentJti as string });
      return this.handOut(access, result.subjectVersion, token, refresh.expiresAt);
    }
    if (result.outcome === 'spent') return this.replayOrRevoke(refreshToken, result.presented, result.successors, result.session, now);
    throw new InvalidTokenException('Invalid refresh token');
  }

  /** When a session created at `createdAt` must end (epoch ms): `sessionMaxLifetime` after it, or never. */
  private sessionEnd(createdAt: number): number {
    return this.config.sessionMaxLifetime === undefined ? Infinity : createdAt + this.config.sessionMaxLifetime * 1000;
  }

  /** Whether a session may still be refreshed: not revoked, within its absolute lifetime and its idle timeout. */
  private sessionLive(session: SessionRecord | null, now: number): session is SessionRecord {
    if (!session || session.revokedAt !== null || this.sessionEnd(session.createdAt) <= now) return false;
    const idle = this.config.sessionIdleTimeout;
    const seen = Math.max(session.lastSeenAt, this.activity.lastSeen(session.sessionId) ?? 0);
    return idle === undefined || seen > now - idle * 1000;
  }

  /** A spent refresh token again: the same pair inside the grace window, else reuse and the session dies. */
  private async replayOrRevoke(
    refreshToken: string,
    presented: TokenRecord,
    successors: TokenRecord[],
    session: SessionRecord | null,
    now: number,
  ): Promise<IssuedTokens> {
    const access = successors.find((t) => t.tokenType === 'access');
    const refresh = successors.find((t) => t.tokenType === 'refresh');
    const successorToken = refresh && this.successor.find(refreshToken, presented.jti, (candidate) => hashRefreshToken(candidate) === refresh.tokenHash);
    const inGrace =
      presented.spentAt !== null &&
      this.config.refreshReuseGrace > 0 &&
      now - presented.spentAt <= this.config.refreshReuseGrace * 1000 &&
      this.sessionLive(session, now) &&
      // Only the immediately previous token: its successor must still be the live end of the chain.
      refresh !== undefined &&
      refresh.spentAt === null &&
      refresh.revokedAt === null &&
      successorToken !== undefined &&
      access !== undefined &&
      access.revokedAt === null;
    if (inGrace) return this.handOut(access, access.subjectVersion, successorToken, refresh.expiresAt);
    // Theft only if this call is what ended the session: one a logout (or
    // anything else) revoked meanwhile is no alarm.
    if (session && session.revokedAt === null && (await this.revokeSessionChanged(presented.sessionId, 'refresh_reuse'))) {
      this.events.emit({ type: 'reuse_detected', subject: presented.subject, sessionId: presented.sessionId, jti: presented.jti });
    }
    throw new InvalidTokenException('Invalid refresh token');
  }

  /** Revokes one token by jti or by the token itself. Idempotent; false when the token is unknown. */
  async revoke(jtiOrToken: string, reason: RevokeReason = 'logout'): Promise<boolean> {
    assertReason(reason);
    if (typeof jtiOrToken !== 'string') return false;
    // A token is taken at its signature's word only; a bare jti is the app's own.
    const jti = jtiOrToken.includes('.') ? (this.codec.verifySignature(jtiOrToken)?.payload as { jti?: unknown } | undefined)?.jti : jtiOrToken;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 64) return false;
    const revoked = await this.stored(this.store.revokeToken(jti, reason, Date.now()));
    if (!revoked) return false;
    if (revoked.event) this.sync.propagate(revoked.event);
    if (revoked.changed) this.events.emit({ type: 'revoked', scope: 'token', jti: revoked.jti, reason });
    return true;
  }

  /** Revokes a session: its access and refresh tokens. Idempotent; false when the session is unknown. */
  async revokeSession(sessionId: string, reason: RevokeReason = 'session_revoked'): Promise<boolean> {
    assertReason(reason);
    return (await this.revokeSessionChanged(sessionId, reason)) !== null;
  }

  /** Null: unknown session; false: revoked already, nothing written; true: revoked by this call. */
  private async revokeSessionChanged(sessionId: string, reason: RevokeReason): Promise<boolean | null> {
    if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 64) return null;
    const revoked = await this.stored(this.store.revokeSession(sessionId, reason, Date.now()));
    if (!revoked) return null;
    if (revoked.event) this.sessionRevoked(revoked.event, reason);
    return revoked.event !== null;
  }

  /** A session revocation this instance wrote: apply and publish it, then tell the app. */
  private sessionRevoked(event: RevocationEvent, reason: RevokeReason): void {
    this.sync.propagate(event);
    this.events.emit({ type: 'revoked', scope: 'session', sessionId: event.key, reason });
  }

  /**
   * Ends the presented token's session (`'session'`) or every token of its
   * subject (`'all'`): what `@Logout()` and `@LogoutAll()` do. The presented
   * token dies either way, also one whose session the log does not know (a
   * token signed elsewhere with a key of the ring): its session is written
   * as revoked.
   */
  async logout(token: VerifiedToken, scope: 'session' | 'all' = 'session'): Promise<void> {
    const reason = scope === 'all' ? 'logout_all' : 'logout';
    if (scope === 'all') await this.revokeAllForSubject(token.sub, reason);
    else await this.revokeSession(token.sid, reason);
    if (this.state.verdict(token) === 'revoked') return;
    const presented = { subject: token.sub, sessionId: token.sid, jti: token.jti, issuedAt: token.iat * 1000, expiresAt: token.exp * 1000 };
    const event = await this.stored(this.store.revokePresented(presented, reason, Date.now()));
    if (event) this.sessionRevoked(event, reason);
    // Applied just now, unless this instance already had it: either way the token is dead here.
    if (this.state.verdict(token) !== 'revoked') this.state.sessionRevoked(token.sid);
  }

  /** Every token of the subject issued before this call is dead; one issued after it works. Idempotent. */
  async revokeAllForSubject(subject: string, reason: RevokeReason = 'logout_all'): Promise<void> {
    assertSubject(subject);
    assertReason(reason);
    const now = Date.now();
    const { event } = await this.stored(this.store.revokeSubject(subject, reason, now));
    this.sync.propagate(event);
    this.subjects.forget(subject);
    this.events.emit({ type: 'revoked', scope: 'subject', subject, reason });
  }

  /** Revokes every live session of the subject except one (say, after a password change). Returns how many. */
  async revokeOtherSessions(subject: string, keepSessionId: string, reason: RevokeReason = 'password_change'): Promise<number> {
    assertSubject(subject);
    assertReason(reason);
    const now = Date.now();
    const revoked = await this.stored(this.store.revokeOtherSessions(subject, keepSessionId, reason, now));
    for (const event of revoked) this.sessionRevoked(event, reason);
    return revoked.length;
  }

  /**
   * RFC 7009 revocation of a token a client presents: a refresh token (its
   * whole session dies) or an access token. Unknown, garbage, expired or
   * already revoked tokens are a success too, and so is a token of another
   * subject than `owner` (when given), which is left alone: the answer
   * reveals nothing. The hint only orders the look-ups.
   */
  async revokeToken(token: unknown, hint?: unknown, owner?: { subject: string }): Promise<void> {
    if (typeof token !== 'string' || token.length === 0 || token.length > this.config.maxTokenLength) return;
    const lookups = hint === 'access_token' ? [this.accessTokenOf, this.refreshTokenOf] : [this.refreshTokenOf, this.accessTokenOf];
    for (const lookup of lookups) {
      const found = await lookup.call(this, token);
      if (!found) continue;
      if (owner && owner.subject !== found.subject) return;
      if (found.tokenType === 'refresh') await this.revokeSession(found.sessionId, 'logout');
      else await this.revoke(found.jti, 'logout');
      return;
    }
  }

  /**
   * RFC 7662 introspection: `{ active: false }` and nothing more for any
   * token that is not live (unknown, expired, revoked, spent, bad signature).
   */
  async introspect(token: unknown, hint?: unknown): Promise<IntrospectionResponse> {
    if (typeof token !== 'string' || token.length === 0 || token.length > this.config.maxTokenLength) return { active: false };
    const lookups = hint === 'refresh_token' ? [this.introspectRefresh, this.introspectAccess] : [this.introspectAccess, this.introspectRefresh];
    for (const lookup of lookups) {
      const answer = await lookup.call(this, token);
      if (answer) return answer;
    }
    return { active: false };
  }

  private async introspectAccess(token: string): Promise<IntrospectionResponse | null> {
    const decoded = this.codec.verifySignature(token);
    if (!decoded) return null;
    const now = Math.floor(Date.now() / 1000);
    let claims: VerifiedToken;
    try {
      claims = checkAccessToken(decoded.header, decoded.payload, this.config, now);
    } catch {
      return null;
    }
    const { issuer, audience, clockTolerance } = this.config;
    if (claims.exp + clockTolerance <= now || (typeof claims.nbf === 'number' && claims.nbf > now + clockTolerance)) return null;
    if (issuer !== undefined && claims.iss !== issuer) return null;
    if (audience !== undefined && JSON.stringify(claims.aud) !== JSON.stringify(audience)) return null;
    if (await this.isRevoked(claims)) return null;
    return {
      active: true,
      token_type: 'access_token',
      sub: claims.sub,
      jti: claims.jti,
      sid: claims.sid,
      iat: claims.iat,
      exp: claims.exp,
      ...(claims.iss !== undefined ? { iss: claims.iss } : {}),
      ...(claims.aud !== undefined ? { aud: claims.aud } : {}),
    };
  }

  private async introspectRefresh(token: string): Promise<IntrospectionResponse | null> {
    const row = await this.refreshTokenOf(token);
    if (!row || row.revokedAt !== null || row.spentAt !== null || row.expiresAt <= Date.now()) return null;
    const session = await this.stored(this.store.findSession(row.sessionId));
    if (!this.sessionLive(session, Date.now())) return null;
    // No jti: a refresh token's row id keys its successor (see successorOf) and stays server-side.
    return {
      active: true,
      token_type: 'refresh_token',
      sub: row.subject,
      sid: row.sessionId,
      iat: Math.floor(row.issuedAt / 1000),
      exp: Math.floor(row.expiresAt / 1000),
    };
  }

  private async refreshTokenOf(token: string): Promise<TokenRecord | null> {
    // A JWT is never a refresh token; skip the database for it.
    if (token.includes('.') || token.length > 256) return null;
    return this.stored(this.store.findRefreshToken(hashRefreshToken(token)));
  }

  private async accessTokenOf(token: string): Promise<TokenRecord | null> {
    const decoded = this.codec.verifySignature(token);
    const jti = (decoded?.payload as { jti?: unknown } | null | undefined)?.jti;
    if (typeof jti !== 'string' || jti.length > 64) return null;
    const row = await this.stored(this.store.findToken(jti));
    return row && row.tokenType === 'access' ? row : null;
  }

  /**
   * Live sessions of a subject, newest first, a page at a time: `limit`
   * (default 20, at most 100) per page, `cursor` from the previous page's
   * `next`. A cursor that is not one of ours is a 400.
   */
  async listSessions(subject: string, page: { limit?: number; cursor?: string } = {}): Promise<SessionPage> {
    assertSubject(subject);
    const limit = page.limit ?? 20;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SESSION_PAGE) {
      throw new BadRequestException({ statusCode: 400, message: `limit must be a whole number from 1 to ${MAX_SESSION_PAGE}`, error: 'Bad Request' });
    }
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    // One more than asked: whether a next page exists, without a count.
    const rows = await this.stored(this.store.listActiveSessions(subject, Date.now(), { limit: limit + 1, after }));
    const sessions = rows.slice(0, limit);
    return {
      sessions: sessions.map((s) => ({
        id: s.sessionId,
        createdAt: new Date(s.createdAt),
        lastSeenAt: new Date(Math.max(s.lastSeenAt, this.activity.lastSeen(s.sessionId) ?? 0)),
        expiresAt: new Date(s.expiresAt),
        userAgent: s.userAgent,
        ip: s.ip,
      })),
      next: rows.length > limit ? encodeCursor(sessions[sessions.length - 1]) : null,
    };
  }

  findToken(jti: string): Promise<TokenRecord | null> {
    return this.stored(this.store.findToken(jti));
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.stored(this.store.findSession(sessionId));
  }

  /** True when verified claims belong to a revoked token, session or subject (or, in allowlist mode, an inactive jti); a 503 when the state is too old to trust. */
  async isRevoked(claims: VerifiedToken): Promise<boolean> {
    const verdict = this.state.verdict(claims);
    // Too old to trust (failClosed): neither yes nor no, as in the guard.
    if (verdict === 'stale') throw new StaleStateException();
    if (verdict === 'unknown') return !(await this.stored(this.state.isActiveInStore(claims.jti)));
    return verdict === 'revoked';
  }

  private customClaims(claims: Record<string, unknown>): Record<string, unknown> | null {
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new TypeError('claims must be a plain object');
    const keys = Object.keys(claims);
    if (keys.length === 0) return null;
    for (const key of keys) if (RESERVED_CLAIMS.has(key)) throw new TypeError(`claim "${key}" is set by the module`);
    if (JSON.stringify(claims).length > MAX_CLAIMS_JSON) throw new TypeError(`claims exceed ${MAX_CLAIMS_JSON} bytes of JSON`);
    return claims;
  }

  private accessRow(
    subject: string,
    sessionId: string,
    now: number,
    claims: Record<string, unknown> | null,
    context: IssueContext,
    parentJti: string | null = null,
    end = Infinity,
  ): Omit<TokenRecord, 'subjectVersion'> {
    const issuedAt = Math.floor(now / 1000) * 1000;
    // Whole seconds, as in the token's exp claim.
    const expiresAt = Math.min(issuedAt + this.config.accessTokenTtl * 1000, Math.floor(end / 1000) * 1000);
    return {
      jti: newId(),
      subject,
      tokenType: 'access',
      sessionId,
      issuedAt,
      expiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      claims: claims && Object.keys(claims).length > 0 ? claims : null,
      tokenHash: null,
      parentJti,
      spentAt: null,
    };
  }

  /** The refresh row keeps the session's custom claims, so refreshed access tokens carry them too. */
  private refreshRow(
    subject: string,
    sessionId: string,
    now: number,
    claims: Record<string, unknown> | null,
    context: IssueContext,
    parentJti: string | null,
    end = Infinity,
  ): Omit<TokenRecord, 'subjectVersion'> {
    return {
      jti: newId(),
      subject,
      tokenType: 'refresh',
      sessionId,
      issuedAt: now,
      expiresAt: Math.min(now + this.config.refreshTokenTtl * 1000, end),
      revokedAt: null,
      revokeReason: null,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      claims,
      tokenHash: null,
      parentJti,
      spentAt: null,
    };
  }

  /** Signs the access token whose row is already written, and returns the pair. */
  private handOut(access: Omit<TokenRecord, 'subjectVersion'>, version: number, refreshToken: string, refreshExpiresAt: number): IssuedTokens {
    const iat = access.issuedAt / 1000;
    const exp = access.expiresAt / 1000;
    const payload: Record<string, unknown> = {
      ...(access.claims ?? {}),
      sub: access.subject,
      jti: access.jti,
      sid: access.sessionId,
      ver: version,
      iat,
      exp,
    };
    if (this.config.issuer !== undefined) payload.iss = this.config.issuer;
    if (this.config.audience !== undefined) payload.aud = this.config.audience;
    this.state.tokenIssued(access.jti, exp);
    return {
      accessToken: this.codec.sign(payload),
      expiresIn: exp - iat,
      refreshToken,
      refreshExpiresIn: Math.max(0, Math.floor((refreshExpiresAt - Date.now()) / 1000)),
      sessionId: access.sessionId,
      jti: access.jti,
    };
  }
}
