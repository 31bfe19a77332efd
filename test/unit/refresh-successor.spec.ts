import { describe, expect, it } from '@jest/globals';
import { KeyRing, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig, RefreshSuccessor } from 'nestjs-jwt-revocation/testing';
import { createHmac, hkdfSync } from 'node:crypto';
import { TEST_SECRET } from '../support/keys.js';

/** What the successor of `presented` (row `jti`) is under `secret`, by node:crypto: the stored format. */
function expected(secret: string, jti: string, presented: string): string {
  const info = 'nestjs-jwt-revocation refresh successor';
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), info, 32));
  return createHmac('sha256', key).update(`${jti}\0${presented}`).digest('base64url');
}

const successorOf = (signing: JwtRevocationModuleOptions['signing']) =>
  new RefreshSuccessor(new KeyRing(JwtRevocationConfig.from({ signing })));

// The storage suite checks the same through a real refresh; here each case starts from
// a new key ring, so no derivation is cached from an earlier test.
describe('RefreshSuccessor', () => {
  it('is HMAC-SHA256 over "jti \\0 presented", keyed by HKDF-SHA256 of the signing key', () => {
    expect(successorOf({ secret: TEST_SECRET }).of('presented-token', 'row-jti')).toBe(
      expected(TEST_SECRET, 'row-jti', 'presented-token'),
    );
  });

  it('uses the last key of the ring, whichever is current, and finds a successor made under any live key', () => {
    const other = `${TEST_SECRET}-other`;
    const successor = successorOf({
      keys: [
        { kid: 'new', secret: TEST_SECRET },
        { kid: 'old', secret: other },
      ],
      current: 'new',
    });
    expect(successor.of('p', 'j')).toBe(expected(other, 'j', 'p'));
    const underNew = expected(TEST_SECRET, 'j', 'p');
    expect(successor.find('p', 'j', (candidate) => candidate === underNew)).toBe(underNew);
    expect(successor.find('p', 'j', () => false)).toBeUndefined();
  });
});
