import { BadRequestException, Injectable, Logger, NotImplementedException, type OnModuleInit } from '@nestjs/common';
import type { SecurityEventPage } from '../interfaces/security-event.interface.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { implementsOwn } from '../telemetry/instrumented-store.js';
import { assertSubject } from '../tokens/token-input.js';

const MAX_EVENT_PAGE = 100;

const badRequest = (message: string) => new BadRequestException({ statusCode: 400, message, error: 'Bad Request' });

/** A cursor: the seq of a page's last event, opaque to the client. */
function encodeCursor(seq: number): string {
  return Buffer.from(`e${seq}`).toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  const text = typeof cursor === 'string' && cursor.length <= 32 ? Buffer.from(cursor, 'base64url').toString() : '';
  const seq = /^e[1-9]\d{0,15}$/.test(text) ? Number(text.slice(1)) : NaN;
  if (!Number.isSafeInteger(seq)) throw badRequest('cursor is not one this service handed out');
  return seq;
}

/** The audit trail, a page at a time: a subject's "recent security activity", or every event for an operator. */
@Injectable()
export class SecurityEventList implements OnModuleInit {
  private readonly logger = new Logger('JwtRevocation');

  constructor(private readonly store: TokenStore) {}

  /** Whether the store keeps the trail (the default stores do; a store of the app's own may not). */
  get kept(): boolean {
    return implementsOwn(this.store, 'listSecurityEvents');
  }

  onModuleInit(): void {
    // Said once at boot rather than found out at the first page an operator asks for.
    if (!this.kept)
      this.logger.warn(
        `${this.store.constructor.name} keeps no security events (it does not override listSecurityEvents): revocations are not in an audit trail`,
      );
  }

  /** See `TokenLogService.securityEvents()`. */
  async page(query: { subject?: string; limit?: number; cursor?: string }): Promise<SecurityEventPage> {
    if (query.subject !== undefined) assertSubject(query.subject);
    const limit = query.limit ?? 20;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE)
      throw badRequest(`limit must be a whole number from 1 to ${MAX_EVENT_PAGE}`);
    const before = query.cursor === undefined ? null : decodeCursor(query.cursor);
    // The app's deployment, not the request, is at fault: a JSON 501 says so, where a 500 would hide it.
    if (!this.kept)
      throw new NotImplementedException({
        statusCode: 501,
        message: `${this.store.constructor.name} keeps no security events`,
        error: 'Not Implemented',
      });
    // One more than asked: whether a next page exists, without a count.
    const rows = await stored(this.store.listSecurityEvents({ subject: query.subject, before, limit: limit + 1 }));
    const events = rows.slice(0, limit);
    return { events, next: rows.length > limit ? encodeCursor(events[events.length - 1].seq) : null };
  }
}
