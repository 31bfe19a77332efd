import { Controller, ForbiddenException, Get, Inject, Req, Res, UnauthorizedException } from '@nestjs/common';
import { Public } from 'nestjs-jwt-revocation';
import { createHash, timingSafeEqual } from 'node:crypto';
import { scrape } from './metrics.js';

/** The scraper's bearer token, from METRICS_TOKEN; null: only a scraper on this host, not through a proxy. */
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');

interface ScrapeRequest {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * GET /metrics: the module's metrics (and any other the app records) in
 * Prometheus's text format. Not the users' business, and not the guard's:
 * with METRICS_TOKEN set, a scraper sends `Authorization: Bearer <it>`;
 * without it, only a request from this host's loopback that came through no
 * proxy (one that says `Forwarded` or `X-Forwarded-For`) is answered, so a
 * sample behind a reverse proxy does not publish them by accident.
 */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_TOKEN) private readonly token: string | null) {}

  @Public()
  @Get()
  async metrics(
    @Req() request: ScrapeRequest,
    @Res({ passthrough: true }) response: { setHeader(name: string, value: string): unknown },
  ): Promise<string> {
    if (this.token !== null) {
      const given = request.headers.authorization;
      const bearer = typeof given === 'string' && given.startsWith('Bearer ') ? given.slice(7) : '';
      // Digests of both: the comparison takes as long whatever the length of the guess.
      if (!timingSafeEqual(digest(bearer), digest(this.token)))
        throw new UnauthorizedException('GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
    } else if (
      !LOOPBACK.has(request.socket.remoteAddress ?? '') ||
      request.headers.forwarded !== undefined ||
      request.headers['x-forwarded-for'] !== undefined
    ) {
      throw new ForbiddenException(
        'GET /metrics answers this host only; set METRICS_TOKEN to scrape it from elsewhere',
      );
    }
    // Set here, not with @Header(): a refusal above stays JSON.
    response.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    return scrape();
  }
}
