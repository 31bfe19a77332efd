import { TokenStore } from '../storage/token-store.interface.js';
import { METRIC_NAMES } from './jwt-revocation.metrics.js';
import type { Telemetry, TelemetryAttributes } from './telemetry.js';

/**
 * The store's calls that return a promise: each is timed and traced. The
 * boot-load generators are not (the boot load is timed by its log line), and
 * `sweep` is timed whole, lock and batches together.
 */
const TIMED: ReadonlySet<string> = new Set([
  'createSession',
  'subjectEpoch',
  'rotate',
  'renewAccess',
  'findRefreshToken',
  'revokeToken',
  'revokeSession',
  'revokePresented',
  'revokeSubject',
  'revokeOtherSessions',
  'listSecurityEvents',
  'recordSecurityEvent',
  'loadEvents',
  'loadRevocations',
  'loadActiveAccessTokens',
  'findActiveAccessToken',
  'findToken',
  'findSession',
  'listActiveSessions',
  'touchSessions',
  'sweep',
  'countExpired',
  'findHistory',
]);

/** Seconds: a local database answers in about a millisecond, a sweep of many batches in seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The store as the module's providers see it: every call in a span
 * (`jwt_revocation.store.<method>`, so a slow login shows which call took the
 * time, with the driver's own spans under it) and its duration in the
 * `jwt_revocation.store.duration` histogram, by operation and, when it
 * failed, `error.type`. Whatever the store is, the default or the app's own:
 * the wrapper forwards every call to it, with the store itself as `this`.
 */
export function instrumentStore(store: TokenStore, telemetry: Telemetry): TokenStore {
  const duration = telemetry.meter.createHistogram(METRIC_NAMES.storeDuration, {
    description: 'Duration of token store calls (one transaction or query each), by operation',
    unit: 's',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  // By the method itself, not its name: a prototype's method replaced later is the one called.
  const wrappers = new WeakMap<object, (...args: unknown[]) => Promise<unknown>>();
  const timed = (operation: string, call: () => Promise<unknown>): Promise<unknown> => {
    const attributes: TelemetryAttributes = { 'jwt_revocation.store.operation': operation };
    const started = performance.now();
    const settle = (failure?: unknown) => {
      const seconds = (performance.now() - started) / 1000;
      duration.record(
        seconds,
        failure === undefined ? attributes : { ...attributes, 'error.type': errorType(failure) },
      );
    };
    return telemetry.inSpan(`jwt_revocation.store.${operation}`, attributes, async () => {
      try {
        const result = await call();
        settle();
        return result;
      } catch (error) {
        settle(error);
        throw error;
      }
    });
  };
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      // A function set on the instance itself (a test's spy, an app's patch) is returned as it is.
      if (typeof key !== 'string' || !TIMED.has(key) || typeof value !== 'function' || Object.hasOwn(target, key))
        return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      let wrapper = wrappers.get(method);
      if (wrapper === undefined) {
        wrapper = (...args: unknown[]) => timed(key, () => method.apply(target, args));
        wrappers.set(method, wrapper);
      }
      return wrapper;
    },
  });
}

function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

/**
 * Whether a store implements a method of its own rather than inheriting the
 * base class's default: read from its prototypes (the wrapper above forwards
 * them), so it holds for a wrapped store too.
 */
export function implementsOwn(store: TokenStore, method: keyof TokenStore): boolean {
  const base = TokenStore.prototype[method];
  for (
    let proto: object | null = store;
    proto !== null && proto !== TokenStore.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const own = Object.getOwnPropertyDescriptor(proto, method);
    if (own !== undefined) return own.value !== base;
  }
  return false;
}
