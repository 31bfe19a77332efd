import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { scryptSync, timingSafeEqual } from 'node:crypto';
import {
  dummyHash,
  hashPassword,
  needsRehash,
  passwordCrypto,
  scryptParams,
  verifyPassword,
} from '../../sample/users/password.js';
import { legacyHash } from '../support/legacy-password.js';

const cheap = scryptParams(10);

describe('sample password hashes', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('writes the parameters into the hash, and checks the password against them', async () => {
    const stored = await hashPassword('right password', cheap);
    expect(stored).toMatch(/^scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(await verifyPassword('right password', stored)).toBe(true);
    expect(await verifyPassword('wrong password', stored)).toBe(false);
  });

  it('the hash is scrypt of the password, under the salt and the parameters it names', async () => {
    for (const params of [scryptParams(10), scryptParams(12)]) {
      const [, , salt, hash] = (await hashPassword('right password', params)).split('$');
      const expected = scryptSync('right password', Buffer.from(salt, 'base64url'), 64, {
        N: 2 ** params.ln,
        r: 8,
        p: 1,
      });
      expect(Buffer.from(hash, 'base64url').equals(expected)).toBe(true);
    }
  });

  it("compares with node:crypto's timingSafeEqual, and its answer is the answer", async () => {
    expect(passwordCrypto.timingSafeEqual).toBe(timingSafeEqual);
    const stored = await hashPassword('right password', cheap);
    const storedKey = Buffer.from(stored.split('$')[3], 'base64url');
    const compare = jest.spyOn(passwordCrypto, 'timingSafeEqual');

    expect(await verifyPassword('right password', stored)).toBe(true);
    expect(await verifyPassword('wrong password', stored)).toBe(false);
    // One comparison per check, of the derived key against the stored one.
    expect(compare).toHaveBeenCalledTimes(2);
    const [[right, storedRight], [wrong, storedWrong]] = compare.mock.calls.map(([a, b]) => [
      Buffer.from(a as Uint8Array),
      Buffer.from(b as Uint8Array),
    ]);
    expect(storedRight.equals(storedKey) && storedWrong.equals(storedKey)).toBe(true);
    expect(right.equals(storedKey)).toBe(true);
    expect(wrong.equals(storedKey)).toBe(false);

    // No other comparison decides: the check says what timingSafeEqual says.
    compare.mockReturnValue(false);
    expect(await verifyPassword('right password', stored)).toBe(false);
    compare.mockReturnValue(true);
    expect(await verifyPassword('wrong password', stored)).toBe(true);
  });

  it('still checks hashes in the old format (scrypt$<salt>$<hash>, N = 2^14)', async () => {
    const stored = legacyHash('old password');
    expect(await verifyPassword('old password', stored)).toBe(true);
    expect(await verifyPassword('other password', stored)).toBe(false);
  });

  it('asks for a rehash only when a stored parameter is weaker than the current ones', async () => {
    const legacy = legacyHash('pw');
    expect(needsRehash(legacy, scryptParams(17))).toBe(true);
    expect(needsRehash(legacy, scryptParams(14))).toBe(false);
    // Never a downgrade: a lower cost leaves stronger hashes alone.
    expect(needsRehash(legacy, scryptParams(10))).toBe(false);
    const current = await hashPassword('pw', cheap);
    expect(needsRehash(current, cheap)).toBe(false);
    expect(needsRehash(current, scryptParams(11))).toBe(true);
    expect(needsRehash('garbage', cheap)).toBe(false);
  });

  it('never matches a malformed stored hash, and never throws', async () => {
    const good = await hashPassword('pw', cheap);
    const [, params, salt, hash] = good.split('$');
    const malformed = [
      '',
      'scrypt',
      'scrypt$',
      'scrypt$$',
      'scrypt$$$',
      `scrypt$${salt}`,
      `scrypt$${salt}$`,
      `scrypt$$${hash}`,
      `bcrypt$${params}$${salt}$${hash}`,
      `SCRYPT$${params}$${salt}$${hash}`,
      `scrypt$${params}$${salt}$${hash}$extra`,
      `scrypt$ln=10,r=8$${salt}$${hash}`,
      `scrypt$ln=10,r=8,p=1,x=2$${salt}$${hash}`,
      `scrypt$ln=abc,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=0,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=10,r=0,p=1$${salt}$${hash}`,
      `scrypt$ln=10,r=8,p=0$${salt}$${hash}`,
      `scrypt$ln=-1,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=10.5,r=8,p=1$${salt}$${hash}`,
      // Costs a tampered row must not make the server pay: 2^60 blocks, 16 GiB, p = 99.
      `scrypt$ln=60,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=20,r=99,p=1$${salt}$${hash}`,
      `scrypt$ln=10,r=8,p=99$${salt}$${hash}`,
      `scrypt$${params}$${salt}$${hash.slice(0, 10)}`,
      `scrypt$${params}$${salt}$${hash}${hash}${hash}`,
      `scrypt$${params}$${salt}$${hash.slice(0, -2)}==`,
      `scrypt$${params}$sa lt$${hash}`,
      `scrypt$${params}$${salt}$${hash.slice(0, -1)}!`,
      `scrypt$${params}$${salt}$${'A'.repeat(86)}`,
      `scrypt$${params}$${'A'.repeat(22)}$${hash}`,
      good.replace('$', '$ '),
      good + '\n',
    ];
    for (const stored of malformed) {
      await expect(verifyPassword('pw', stored)).resolves.toBe(false);
    }
    for (const notText of [null, undefined, 42, {}, ['scrypt', params, salt, hash]]) {
      await expect(verifyPassword('pw', notText as unknown as string)).resolves.toBe(false);
    }
    expect(await verifyPassword('pw', good)).toBe(true);
  });

  it('the dummy hash for unknown users has the current parameters and matches nothing', async () => {
    const dummy = dummyHash(cheap);
    expect(dummy).toMatch(/^scrypt\$ln=10,r=8,p=1\$/);
    expect(await verifyPassword('', dummy)).toBe(false);
    expect(await verifyPassword('pw', dummy)).toBe(false);
  });

  it('refuses a cost outside 10 to 20', () => {
    for (const cost of [9, 21, 17.5, Number.NaN]) expect(() => scryptParams(cost)).toThrow(/from 10 to 20/);
    expect(scryptParams(17)).toEqual({ ln: 17, r: 8, p: 1 });
  });
});
