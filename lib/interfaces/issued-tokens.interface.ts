/** Device data recorded on the session at login (and refreshed on refresh). */
export interface IssueContext {
  userAgent?: string;
  ip?: string;
  /**
   * `issue()` only: the subject's epoch (`TokenLogService.subjectEpoch()`),
   * read before the app read the credentials it checked. If a password
   * change or a logout everywhere happened since, `issue()` refuses with a
   * 401 (`CredentialsChangedException`) instead of creating a session that
   * would outlive it.
   */
  epoch?: number;
}

/** What `issue()` and `refresh()` hand back to the app. */
export interface IssuedTokens {
  accessToken: string;
  /** Access token lifetime, seconds. */
  expiresIn: number;
  /** Opaque refresh token; only its SHA-256 hash is stored. */
  refreshToken: string;
  /** Refresh token lifetime, seconds. */
  refreshExpiresIn: number;
  sessionId: string;
  /** jti of the access token. */
  jti: string;
}

/** RFC 7662 answer. An inactive token gets `{ active: false }` and nothing else. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      token_type: 'access_token' | 'refresh_token';
      sub: string;
      /** Access tokens only. */
      jti?: string;
      sid: string;
      iat: number;
      exp: number;
      iss?: string;
      aud?: string | string[];
    };
