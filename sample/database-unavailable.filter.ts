import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';

interface ReplyLike {
  status(code: number): ReplyLike;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  // mysql2's per-query timeout (maxQueryExecutionTime, sample/config.ts): the database stopped answering.
  'PROTOCOL_SEQUENCE_TIMEOUT',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08003',
]);

function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string }; message?: string; name?: string } | null;
  if (!e) return false;
  if (NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(e.driverError?.code ?? '')) return true;
  // "Query read timeout": node-postgres's query_timeout (sample/config.ts), on a connection that stopped answering.
  return /Connection terminated|connection is in closed state|timeout exceeded when trying to connect|Can't add new command|Query read timeout/i.test(
    e.message ?? '',
  );
}

/**
 * The sample's own database calls (users) failing because the database is
 * unreachable answer 503 with Retry-After, like the module's; anything else
 * unexpected stays a 500 (a bug to fix, not to hide).
 */
@Catch()
export class DatabaseUnavailableFilter implements ExceptionFilter {
  private readonly logger = new Logger('Sample');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<ReplyLike>();
    if (error instanceof HttpException) {
      const body = error.getResponse();
      reply
        .status(error.getStatus())
        .json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
      return;
    }
    if (isUnavailable(error)) {
      this.logger.warn(`database unavailable: ${(error as Error).message}`);
      reply.setHeader('Retry-After', '5');
      reply
        .status(503)
        .json({ statusCode: 503, message: 'Database unavailable, retry shortly', error: 'Service Unavailable' });
      return;
    }
    this.logger.error((error as Error)?.stack ?? String(error));
    reply.status(500).json({ statusCode: 500, message: 'Internal server error' });
  }
}
