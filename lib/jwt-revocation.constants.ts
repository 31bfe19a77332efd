/** Name under which the strategy registers with passport. */
export const JWT_REVOCATION_STRATEGY = 'jwt-revocation';

/** Route metadata keys, namespaced so they never collide with the host's own. */
export const IS_PUBLIC_KEY = 'JWT_REVOCATION:PUBLIC';
export const LOGOUT_KEY = 'JWT_REVOCATION:LOGOUT';
export const CROSS_SITE_ALLOWED_KEY = 'JWT_REVOCATION:CROSS_SITE_ALLOWED';

/** Injection token of the propagation bus (Redis, LISTEN/NOTIFY or polling). */
export const JWT_REVOCATION_BUS = 'JWT_REVOCATION:BUS';

/** The `typ` header every access token carries (RFC 9068). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** Default table names; override them with the `tableNames` extra of `forRoot`. */
export const DEFAULT_TABLE_NAMES = {
  tokenLog: 'jwt_token_log',
  tokenArchive: 'jwt_token_archive',
  session: 'jwt_session',
  subjectState: 'jwt_subject_state',
  revocationEvent: 'jwt_revocation_event',
  securityEvent: 'jwt_security_event',
} as const;
