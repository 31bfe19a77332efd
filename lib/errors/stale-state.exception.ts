import { ServiceUnavailableException } from '@nestjs/common';

/** The revocation state is older than `maxStaleness` and `failClosed` is on: try again shortly. */
export class StaleStateException extends ServiceUnavailableException {
  constructor() {
    super({ statusCode: 503, message: 'Revocation state unavailable, retry shortly', error: 'Service Unavailable' });
  }
}

/** Seconds a client should wait after a 503 from the guard or the token log. */
export const RETRY_AFTER_SECONDS = '5';
