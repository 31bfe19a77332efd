import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { Public, RevocationHealthIndicator } from 'nestjs-jwt-revocation';

/**
 * GET /health: 200 while revocations are confirmed fresh, 503 otherwise. The
 * body has @nestjs/terminus's shape, so the indicator drops into a
 * HealthCheckService unchanged.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly revocation: RevocationHealthIndicator) {}

  @Public()
  @Get()
  @HttpCode(200)
  check() {
    const result = this.revocation.check('revocation');
    if (result.revocation.status === 'down')
      throw new ServiceUnavailableException({ status: 'error', details: result });
    return { status: 'ok', details: result };
  }
}
