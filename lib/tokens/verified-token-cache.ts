import type { ResolvedSigning } from '../config/signing-keys.js';
import type { DecodedToken } from './token-codec.js';

interface Entry {
  key: ResolvedSigning;
  header: Record<string, unknown>;
  payload: Readonly<Record<string, unknown>>;
}

/** Freezes nested claim objects too: a cached payload is shared by every request that presents the token. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Tokens whose signature a live key checked, by their exact text: a repeat of
 * one skips the base64url decoding, the JSON parsing and the HMAC or
 * public-key check (about 10 µs of a request's CPU for HS256). What it keeps
 * is only "this text was signed by this key": the caller runs the claim rules
 * (`exp` against the clock among them) and the revocation check on every hit,
 * and a hit whose key was retired since is dropped. Only verified tokens get
 * in, so a flood of forgeries cannot fill it; it holds at most `capacity`
 * entries, the oldest leaving first.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The decoded token if `token` was verified with `key` and that key is still what `liveKey` returns. */
  get(token: string, liveKey: (header: Record<string, unknown>) => ResolvedSigning | undefined): DecodedToken | null {
    const entry = this.entries.get(token);
    if (entry === undefined) return null;
    if (liveKey(entry.header) !== entry.key) {
      this.entries.delete(token);
      return null;
    }
    return entry;
  }

  /** Keeps a token that verified and passed the claim rules; its payload is frozen from now on. */
  set(token: string, key: ResolvedSigning, decoded: DecodedToken): void {
    if (this.capacity === 0) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, {
      key,
      header: deepFreeze(decoded.header),
      payload: deepFreeze(decoded.payload as Record<string, unknown>),
    });
  }

  /** Forgets an entry whose claims no longer pass (expired): it would only take a place. */
  delete(token: string): void {
    this.entries.delete(token);
  }
}
