import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { b64, decodePart, forge } from '../../support/forge.js';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer, expect401 } from '../../support/http.js';
import { digestOf, keyPair, type AsymmetricAlgorithm } from '../../support/keys.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/** A JWS signed properly with an asymmetric key: P1363 (r||s) for ES256 unless DER is asked for. */
function asymmetricToken(
  algorithm: AsymmetricAlgorithm,
  header: object,
  payload: object,
  key: KeyObject,
  der = false,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signingKey =
    algorithm === 'ES256' ? { key, dsaEncoding: der ? ('der' as const) : ('ieee-p1363' as const) } : key;
  return `${input}.${cryptoSign(digestOf(algorithm), Buffer.from(input), signingKey).toString('base64url')}`;
}

eachAdapter('asymmetric signing keys', (adapter) => {
  describe.each<AsymmetricAlgorithm>(['ES256', 'RS256', 'EdDSA'])('%s key with a kid', (algorithm) => {
    const { privateKey, publicKey } = keyPair(algorithm);
    const other = keyPair(algorithm);
    const running = appForSuite(() =>
      startGuardApp(
        {
          signing: {
            algorithm,
            privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
            kid: 'key-1',
          },
        },
        { adapter, controllers: [WhoController] },
      ),
    );
    let token: string;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;

    beforeAll(async () => {
      token = (await tokensOf(running).issue('asym-user')).accessToken;
      header = decodePart(token, 0);
      claims = decodePart(token, 1);
    });

    it('issues a token with the algorithm and kid in its header, and verifies it', async () => {
      expect(header).toEqual({ alg: algorithm, typ: 'at+jwt', kid: 'key-1' });
      const res = await running.http.get('/who').set(bearer(token)).expect(200);
      expect(res.body.sub).toBe('asym-user');
    });

    it('sanity: re-signing the same header and claims with the same key gives 200', async () => {
      await running.http
        .get('/who')
        .set(bearer(asymmetricToken(algorithm, header, claims, privateKey)))
        .expect(200);
    });

    it('a token naming another kid, properly signed with the same key, is 401', async () => {
      expect401(
        await running.http
          .get('/who')
          .set(bearer(asymmetricToken(algorithm, { ...header, kid: 'key-2' }, claims, privateKey))),
      );
    });

    it('a token with the right kid signed by another key pair is 401', async () => {
      expect401(
        await running.http.get('/who').set(bearer(asymmetricToken(algorithm, header, claims, other.privateKey))),
      );
    });

    it('algorithm confusion: HS256 signed with the PEM public key as HMAC secret is 401', async () => {
      const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      for (const kid of ['key-1', undefined]) {
        const forged = forge({ alg: 'HS256', typ: 'at+jwt', ...(kid ? { kid } : {}) }, claims, pem);
        expect401(await running.http.get('/who').set(bearer(forged)));
      }
      // Also with the DER bytes of the public key as the secret.
      const der = publicKey.export({ type: 'spki', format: 'der' });
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims)}`;
      const forged = `${input}.${createHmac('sha256', der).update(input).digest('base64url')}`;
      expect401(await running.http.get('/who').set(bearer(forged)));
    });

    it('alg none with the right kid is 401', async () => {
      expect401(await running.http.get('/who').set(bearer(`${b64({ ...header, alg: 'none' })}.${b64(claims)}.`)));
    });

    if (algorithm === 'EdDSA') {
      it('only "EdDSA" names it: the same signature under alg "Ed25519" or "Ed448" is 401', async () => {
        for (const alg of ['Ed25519', 'Ed448', 'eddsa']) {
          expect401(
            await running.http
              .get('/who')
              .set(bearer(asymmetricToken(algorithm, { ...header, alg }, claims, privateKey))),
          );
        }
      });

      it('an all-zero signature and a truncated one are 401', async () => {
        const input = `${b64(header)}.${b64(claims)}`;
        expect401(await running.http.get('/who').set(bearer(`${input}.${Buffer.alloc(64).toString('base64url')}`)));
        const real = asymmetricToken(algorithm, header, claims, privateKey).split('.')[2];
        expect401(await running.http.get('/who').set(bearer(`${input}.${real.slice(0, 43)}`)));
      });
    }

    if (algorithm === 'ES256') {
      it('an ES256 signature in DER instead of r||s is 401', async () => {
        expect401(
          await running.http.get('/who').set(bearer(asymmetricToken(algorithm, header, claims, privateKey, true))),
        );
      });

      it('the "psychic signature" (r = s = 0, CVE-2022-21449) is 401', async () => {
        const zero = Buffer.alloc(64).toString('base64url');
        expect401(await running.http.get('/who').set(bearer(`${b64(header)}.${b64(claims)}.${zero}`)));
        // And in DER: SEQUENCE { INTEGER 0, INTEGER 0 }.
        const derZero = Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]).toString('base64url');
        expect401(await running.http.get('/who').set(bearer(`${b64(header)}.${b64(claims)}.${derZero}`)));
      });
    }
  });
});
