/**
 * A peer dependency is installed in a version this release was not built
 * for: thrown by `forRoot()` / `forRootAsync()`, before Nest would fail later
 * with an error that names neither the package nor the version.
 */
export class UnsupportedPeerError extends Error {
  /** Stable: match on this, not on the message. */
  readonly code = 'NESTJS_JWT_REVOCATION_UNSUPPORTED_PEER';

  constructor(
    /** The peer, e.g. `@nestjs/core`. */
    readonly packageName: string,
    /** The version installed, as its package.json says. */
    readonly installed: string,
    /** What this release supports, e.g. `^11 || ^12`. */
    readonly supported: string,
    /** An npm spec of a supported version, e.g. `@nestjs/core@12`. */
    install: string,
  ) {
    super(
      `JwtRevocationModule: ${packageName} ${installed} is installed, and nestjs-jwt-revocation supports ` +
        `${packageName} ${supported}. Install a supported version (npm install ${install}), ` +
        `or a release of nestjs-jwt-revocation that supports ${packageName} ${installed}.`,
    );
    this.name = 'UnsupportedPeerError';
  }
}
