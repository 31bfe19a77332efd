import { Injectable } from '@nestjs/common';
import { ArchiveSweeper, type ArchiveOptions, type ArchiveResult } from '../archive/archive-sweeper.js';
import { KeyRetirement } from '../audit/key-retirement.js';
import { SecurityEventList } from '../audit/security-event-list.js';
import type { IntrospectionResponse, IssueContext, IssuedTokens } from '../interfaces/issued-tokens.interface.js';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SecurityClient, SecurityEventPage } from '../interfaces/security-event.interface.js';
import type { SessionPage, SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { TokenIntrospection } from '../oauth/token-introspection.js';
import { TokenRevocation } from '../oauth/token-revocation.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { TokenRevoker } from '../revocation/token-revoker.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { RefreshRotation } from './refresh-rotation.js';
import { SessionList } from './session-list.js';
import { TokenIssuer } from './token-issuer.js';
import { assertSubject } from './token-input.js';

/**
 * The app's handle on tokens: issue, refresh, revoke, look up. A facade:
 * each call is one line into the piece that does it (TokenIssuer,
 * RefreshRotation, TokenRevoker, the OAuth endpoints, SessionList,
 * ArchiveSweeper, the audit trail). Every write reaches the database before the call
 * returns; the in-memory revocation state is updated right after, so the
 * next request on this instance already sees it. A database failure is a
 * 503, never a 500 and never a false success.
 *
 * The revoking calls take the client of the request behind them (`{ ip,
 * userAgent }`, optional): the security event each revocation records
 * names it ("signed out from Firefox on 203.0.113.7").
 */
@Injectable()
export class TokenLogService {
  constructor(
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    private readonly issuer: TokenIssuer,
    private readonly rotation: RefreshRotation,
    private readonly revoker: TokenRevoker,
    private readonly revocation: TokenRevocation,
    private readonly introspection: TokenIntrospection,
    private readonly sessions: SessionList,
    private readonly sweeper: ArchiveSweeper,
    private readonly securityEventList: SecurityEventList,
    private readonly keyRetirement: KeyRetirement,
  ) {}

  /**
   * The subject's epoch: it moves with every subject-wide revocation
   * (`revokeAllForSubject`, `revokeOtherSessions`). Read it before reading
   * the credentials you check, and hand it to `issue()` in `context.epoch`:
   * a login racing a password change then cannot outlive it.
   */
  subjectEpoch(subject: string): Promise<number> {
    assertSubject(subject);
    return stored(this.store.subjectEpoch(subject));
  }

  /**
   * Starts a session: signs an access token, creates a refresh token, and
   * writes both to the token log before returning them. With
   * `context.epoch`, refuses (401, `CredentialsChangedException`) when a
   * subject-wide revocation happened since that epoch was read. Past
   * `maxSessionsPerSubject`, the subject's oldest sessions are revoked.
   */
  issue(subject: string, claims: Record<string, unknown> = {}, context: IssueContext = {}): Promise<IssuedTokens> {
    return this.issuer.issue(subject, claims, context);
  }

  /**
   * Exchanges a refresh token for a new pair in the same session; the old one
   * is spent. Within `refreshReuseGrace` seconds of its spend, a spent token
   * gets the pair at the live end of its chain again, up to three links on
   * (a retry, two tabs at once, a request held back while another tab
   * refreshed). Any other spent token is reuse: the whole session is
   * revoked. Throws a 401 (`InvalidTokenException`) for every token that
   * yields no pair.
   */
  refresh(refreshToken: string, context: IssueContext = {}): Promise<IssuedTokens> {
    return this.rotation.refresh(refreshToken, context);
  }

  /** Revokes one token by jti or by the token itself. Idempotent; false when the token is unknown. */
  revoke(jtiOrToken: string, reason: RevokeReason = 'logout', client?: SecurityClient): Promise<boolean> {
    return this.revoker.revoke(jtiOrToken, reason, client);
  }

  /** Revokes a session: its access and refresh tokens. Idempotent; false when the session is unknown. */
  async revokeSession(
    sessionId: string,
    reason: RevokeReason = 'session_revoked',
    client?: SecurityClient,
  ): Promise<boolean> {
    return (await this.revoker.revokeSession(sessionId, reason, client)) !== null;
  }

  /** Every token of the subject issued before this call is dead; one issued after it works. */
  revokeAllForSubject(subject: string, reason: RevokeReason = 'logout_all', client?: SecurityClient): Promise<void> {
    return this.revoker.revokeAllForSubject(subject, reason, client);
  }

  /** Revokes every live session of the subject except one (say, after a password change). Returns how many. */
  revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason = 'password_change',
    client?: SecurityClient,
  ): Promise<number> {
    return this.revoker.revokeOtherSessions(subject, keepSessionId, reason, client);
  }

  /**
   * Ends the presented token's session (`'session'`) or every token of its
   * subject (`'all'`): what `@Logout()` and `@LogoutAll()` do. The presented
   * token dies either way, also one whose session the log does not know (a
   * token signed elsewhere with a key of the ring): its session is written
   * as revoked.
   */
  logout(token: VerifiedToken, scope: 'session' | 'all' = 'session', client?: SecurityClient): Promise<void> {
    return this.revoker.logout(token, scope, client);
  }

  /**
   * RFC 7009 revocation of a token a client presents: a refresh token (its
   * whole session dies) or an access token. Unknown, garbage, expired or
   * already revoked tokens are a success too, and so is a token of another
   * subject than `owner` (when given), which is left alone: the answer
   * reveals nothing. The hint only orders the look-ups.
   */
  revokeToken(token: unknown, hint?: unknown, owner?: { subject: string }, client?: SecurityClient): Promise<void> {
    return this.revocation.revokeToken(token, hint, owner, client);
  }

  /**
   * RFC 7662 introspection: `{ active: false }` and nothing more for any
   * token that is not live (unknown, expired, revoked, spent, bad signature).
   */
  introspect(token: unknown, hint?: unknown): Promise<IntrospectionResponse> {
    return this.introspection.introspect(token, hint);
  }

  /**
   * Live sessions of a subject, newest first, a page at a time: `limit`
   * (default 20, at most 100) per page, `cursor` from the previous page's
   * `next`. A cursor that is not one of ours is a 400.
   */
  listSessions(subject: string, page: { limit?: number; cursor?: string } = {}): Promise<SessionPage> {
    return this.sessions.page(subject, page);
  }

  /**
   * The audit trail, newest first, a page at a time: a subject's security
   * events (every revocation of its tokens, sessions or of the subject, with
   * the reason and the client behind it), or every event, key retirements
   * included, when no subject is given. `limit` (default 20, at most 100)
   * per page, `cursor` from the previous page's `next`; a cursor that is not
   * one of ours is a 400.
   */
  securityEvents(query: { subject?: string; limit?: number; cursor?: string } = {}): Promise<SecurityEventPage> {
    return this.securityEventList.page(query);
  }

  /**
   * Takes a signing key out of the ring on this instance (see
   * `KeyRing.retire`), after recording a `key_retired` security event.
   * False when no live key has that kid; throws for the current key.
   */
  retireKey(kid: string, client?: SecurityClient): Promise<boolean> {
    return this.keyRetirement.retire(kid, client);
  }

  findToken(jti: string): Promise<TokenRecord | null> {
    return stored(this.store.findToken(jti));
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return stored(this.store.findSession(sessionId));
  }

  /** True when verified claims belong to a revoked token, session or subject (or, in allowlist mode, an inactive jti); a 503 when the state is too old to trust. */
  isRevoked(claims: VerifiedToken): Promise<boolean> {
    return this.state.isRevoked(claims);
  }

  /**
   * Moves expired rows from the log to the archive now, in batches (see
   * `ArchiveSweeper`). Idempotent; `ran: false` when another instance holds
   * the sweep.
   */
  archiveExpired(options: ArchiveOptions = {}): Promise<ArchiveResult> {
    return stored(this.sweeper.run(options));
  }

  /**
   * Token rows of the log and the archive together, newest first: a
   * subject's or a session's tokens, or those valid at a given time ("which
   * devices held a valid token at T"). At most `limit` rows (default 1000).
   */
  history(query: {
    subject?: string;
    sessionId?: string;
    validAt?: Date;
    limit?: number;
  }): Promise<Array<TokenRecord & { archivedAt: number | null }>> {
    if (query.subject === undefined && query.sessionId === undefined && query.validAt === undefined) {
      throw new TypeError('history() needs a subject, a sessionId or validAt');
    }
    const limit = query.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive whole number');
    return stored(
      this.store.findHistory({
        subject: query.subject,
        sessionId: query.sessionId,
        validAt: query.validAt?.getTime(),
        limit,
      }),
    );
  }
}
