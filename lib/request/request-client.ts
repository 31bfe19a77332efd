import type { SecurityClient } from '../interfaces/security-event.interface.js';

interface RequestLike {
  ip?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * The client of a request as the module records it (a session's device, a
 * security event's client): Express's and Fastify's `request.ip` (which
 * follows the app's `trust proxy` setting) and the User-Agent header.
 */
export function clientOf(request: unknown): SecurityClient {
  const { ip, headers } = (request ?? {}) as RequestLike;
  const agent = headers?.['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent : undefined, ip: typeof ip === 'string' ? ip : undefined };
}
