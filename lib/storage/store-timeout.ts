import { StoreTimeoutError } from '../errors/store-timeout.error.js';

/**
 * Settles as `call` does, or rejects with a StoreTimeoutError after `seconds`.
 * A promise cannot be cancelled: a call that timed out goes on in the
 * background, and whatever it answers later is dropped. The caller is free
 * to try again at once; closing the connection the call holds is the
 * driver's job (see README, "Several instances").
 */
export function withStoreTimeout<T>(call: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(what, seconds)), seconds * 1000);
    timer.unref();
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}
