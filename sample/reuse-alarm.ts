import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { TokenEvents } from 'nestjs-jwt-revocation';

/**
 * Where an app would notify the user that a stolen refresh token was used:
 * the module has already revoked the session; this only tells someone.
 */
@Injectable()
export class ReuseAlarm implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Security');
  private unsubscribe?: () => void;

  constructor(private readonly events: TokenEvents) {}

  onModuleInit(): void {
    this.unsubscribe = this.events.subscribe((event) => {
      if (event.type === 'reuse_detected') {
        this.logger.warn(`refresh token reuse in session ${event.sessionId} of user ${event.subject}: session revoked`);
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
