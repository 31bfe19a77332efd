import { fail } from '../errors/jwt-revocation-options.error.js';
import type { SlidingRenewalOptions } from '../interfaces/sliding-renewal-options.interface.js';

/** The `slidingRenewal` option after defaults and checks. */
export interface ResolvedRenewal {
  /** Seconds before `exp` from which a token is renewed. */
  threshold: number;
  /** Response header for a renewed token that is not set as the access cookie. */
  header: string;
}

const KNOWN = new Set(['threshold', 'header']);
/** An RFC 9110 field name. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks `slidingRenewal` against the access-token lifetime; a wrong value stops the app at bootstrap, naming it. */
export function resolveRenewal(options: SlidingRenewalOptions, accessTokenTtl: number): ResolvedRenewal {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail('option "slidingRenewal" must be an object such as { threshold: 300 }');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) fail(`unknown option "slidingRenewal.${key}"`);
  const { threshold, header = 'X-Renewed-Access-Token' } = options;
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 1)
    fail(`option "slidingRenewal.threshold" must be a positive whole number of seconds, got ${String(threshold)}`);
  // At the lifetime or past it, every request would be due, and each token renewed at once.
  if (threshold >= accessTokenTtl)
    fail(
      `option "slidingRenewal.threshold" (${threshold}) must be less than "accessTokenTtl" (${accessTokenTtl}): every token would be due as soon as issued`,
    );
  if (typeof header !== 'string' || !FIELD_NAME.test(header))
    fail('option "slidingRenewal.header" must be an HTTP header name');
  return { threshold, header };
}
