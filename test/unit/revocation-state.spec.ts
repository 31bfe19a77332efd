import { describe, expect, it } from '@jest/globals';
import { TokenStore, type JwtRevocationModuleOptions, type VerifiedToken } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig, RevocationState } from 'nestjs-jwt-revocation/testing';

/**
 * The freshness gate of the in-memory state, alone: no database is asked
 * anything here (the store is never called), so none is needed; what the gate
 * does with a real outage is in test/e2e/scale-out.e2e-spec.ts.
 */
const token: VerifiedToken = { sub: 's', jti: 'j', sid: 'x', ver: 0, iat: 1, exp: 2 };
const stateWith = (options: Partial<JwtRevocationModuleOptions>) =>
  new RevocationState(
    JwtRevocationConfig.from({ signing: { secret: 'x'.repeat(32) }, ...options } as JwtRevocationModuleOptions),
    null as unknown as TokenStore,
  );

describe('RevocationState freshness', () => {
  it('failClosed (default): past the trusted time the verdict is stale', () => {
    const state = stateWith({});
    expect(state.verdict(token)).toBe('active');
    state.trustUntil(Date.now() - 1);
    expect(state.verdict(token)).toBe('stale');
    state.trustUntil(Date.now() + 60_000);
    expect(state.verdict(token)).toBe('active');
  });

  it('failClosed false: a stale state still answers from memory', () => {
    const state = stateWith({ failClosed: false });
    state.trustUntil(Date.now() - 1);
    expect(state.verdict(token)).toBe('active');
    state.apply({ seq: 1, kind: 'token', key: 'j', value: Date.now() + 60_000, at: Date.now() });
    expect(state.verdict(token)).toBe('revoked');
  });

  it('applies events idempotently: session and subject revocations', () => {
    const state = stateWith({});
    const now = Date.now();
    state.apply({ seq: 1, kind: 'session', key: 'x', value: 0, at: now });
    state.apply({ seq: 1, kind: 'session', key: 'x', value: 0, at: now });
    expect(state.verdict(token)).toBe('revoked');
    const other = { ...token, sid: 'y' };
    state.apply({ seq: 2, kind: 'subject', key: 's', value: 1, at: now });
    expect(state.verdict(other)).toBe('revoked');
    expect(state.verdict({ ...other, ver: 1 })).toBe('active');
  });
});
