import { HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';

const logger = new Logger('JwtRevocation');

/**
 * A store call as the app sees it: a database failure becomes a 503, so a
 * revoke that could not be written fails loudly instead of looking like a
 * success, and never as a 500. HTTP errors pass through as they are.
 */
export function stored<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    if (error instanceof HttpException) throw error;
    logger.error(`token store failed: ${(error as Error)?.message ?? String(error)}`);
    throw new ServiceUnavailableException({
      statusCode: 503,
      message: 'Token store unavailable, retry shortly',
      error: 'Service Unavailable',
    });
  });
}
