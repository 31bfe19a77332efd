import { BadRequestException, Injectable } from '@nestjs/common';
import type { SessionPage, SessionRecord } from '../interfaces/token-record.interface.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { SessionLifetime } from './session-lifetime.js';
import { assertSubject } from './token-input.js';

const MAX_SESSION_PAGE = 100;

/** A cursor: the last session of a page, opaque to the client. */
function encodeCursor(session: SessionRecord): string {
  return Buffer.from(JSON.stringify([session.createdAt, session.sessionId])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; sessionId: string } {
  try {
    const [createdAt, sessionId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(createdAt) && typeof sessionId === 'string' && sessionId.length <= 64)
      return { createdAt: createdAt as number, sessionId };
  } catch {
    // falls through to the 400
  }
  throw new BadRequestException({
    statusCode: 400,
    message: 'cursor is not one this service handed out',
    error: 'Bad Request',
  });
}

/** A subject's live sessions, a page at a time ("your devices"). */
@Injectable()
export class SessionList {
  constructor(
    private readonly store: TokenStore,
    private readonly lifetime: SessionLifetime,
  ) {}

  /** See `TokenLogService.listSessions()`. */
  async page(subject: string, page: { limit?: number; cursor?: string }): Promise<SessionPage> {
    assertSubject(subject);
    const limit = page.limit ?? 20;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SESSION_PAGE) {
      throw new BadRequestException({
        statusCode: 400,
        message: `limit must be a whole number from 1 to ${MAX_SESSION_PAGE}`,
        error: 'Bad Request',
      });
    }
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    const now = Date.now();
    // One more than asked: whether a next page exists, without a count.
    const rows = await stored(this.store.listActiveSessions(subject, now, { limit: limit + 1, after }));
    const read = rows.slice(0, limit);
    // The store leaves out revoked and expired sessions; one idle past sessionIdleTimeout can
    // never be used again either, but telling needs this instance's memory of recent requests
    // (SessionActivity), so it is left out here. Such a page may hold fewer than `limit`.
    const sessions = read.filter((s) => this.lifetime.isLive(s, now));
    return {
      sessions: sessions.map((s) => ({
        id: s.sessionId,
        createdAt: new Date(s.createdAt),
        lastSeenAt: new Date(this.lifetime.lastSeen(s)),
        expiresAt: new Date(s.expiresAt),
        userAgent: s.userAgent,
        ip: s.ip,
      })),
      next: rows.length > limit ? encodeCursor(read[read.length - 1]) : null,
    };
  }
}
