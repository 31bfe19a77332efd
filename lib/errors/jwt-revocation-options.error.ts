/** A wrong option: thrown at bootstrap, its message names the option. */
export class JwtRevocationOptionsError extends Error {
  constructor(message: string) {
    super(`JwtRevocationModule: ${message}`);
    this.name = 'JwtRevocationOptionsError';
  }
}

/** Throws the options error; for the option checks. */
export function fail(message: string): never {
  throw new JwtRevocationOptionsError(message);
}
