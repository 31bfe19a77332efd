/** A database call on the revocation path that did not answer within `storeTimeout`. */
export class StoreTimeoutError extends Error {
  constructor(what: string, seconds: number) {
    super(`${what} did not answer within ${seconds} s (storeTimeout)`);
    this.name = 'StoreTimeoutError';
  }
}
