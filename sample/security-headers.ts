import type { NextFunction } from 'express';

interface ResponseLike {
  setHeader(name: string, value: string): unknown;
}

/**
 * Helmet's defaults that matter for a JSON API, without the dependency:
 * nothing here is ever rendered, framed, sniffed or cached.
 */
export function securityHeaders(_req: unknown, res: ResponseLike, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Strict-Transport-Security', 'max-age=15552000; includeSubDomains');
  // Tokens are in these responses: no cache may keep them.
  res.setHeader('Cache-Control', 'no-store');
  next();
}
