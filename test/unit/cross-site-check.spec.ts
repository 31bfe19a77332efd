import { describe, expect, it } from '@jest/globals';
import { ownOrigin, refusesCrossSite, resolveCookies } from 'nestjs-jwt-revocation/testing';

/** The pure decision behind cookie mode's 403 (the e2e suites play it over HTTP on both adapters). */
describe('refusesCrossSite', () => {
  const cookies = resolveCookies({ refreshPath: '/auth/refresh', trustedOrigins: ['https://admin.example.com'] });
  const post = (headers: Record<string, string>, hasBearer = false) =>
    refusesCrossSite({ method: 'POST', headers: { host: 'app.example.com', ...headers } }, cookies, hasBearer);

  it('lets safe methods through in any case of spelling, and refuses every other method', () => {
    for (const method of ['GET', 'get', 'HEAD', 'OPTIONS'])
      expect(refusesCrossSite({ method, headers: { origin: 'https://evil.example' } }, cookies, false)).toBe(false);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'post'])
      expect(refusesCrossSite({ method, headers: { origin: 'https://evil.example' } }, cookies, false)).toBe(true);
  });

  it('lets a request with a Bearer header through, whatever its origin', () => {
    expect(post({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, true)).toBe(false);
  });

  it('something that is no HTTP request (no method, no headers) is not judged', () => {
    expect(refusesCrossSite({}, cookies, false)).toBe(false);
    expect(refusesCrossSite({ method: 'POST' }, cookies, false)).toBe(false);
  });

  it('Fetch Metadata decides when present: same-origin and none pass, the rest only from a trusted Origin', () => {
    expect(post({ 'sec-fetch-site': 'same-origin' })).toBe(false);
    expect(post({ 'sec-fetch-site': 'none' })).toBe(false);
    expect(post({ 'sec-fetch-site': 'same-site', origin: 'https://admin.example.com' })).toBe(false);
    expect(post({ 'sec-fetch-site': 'same-site', origin: 'https://blog.example.com' })).toBe(true);
    expect(post({ 'sec-fetch-site': 'cross-site' })).toBe(true);
    expect(post({ 'sec-fetch-site': 'something-new', origin: 'https://app.example.com' })).toBe(true);
  });

  it('without Fetch Metadata: our Origin or a trusted one passes; null, another, or ours over http is refused', () => {
    expect(post({ origin: 'https://app.example.com' })).toBe(false);
    expect(post({ origin: 'https://admin.example.com' })).toBe(false);
    expect(post({ origin: 'null' })).toBe(true);
    expect(post({ origin: 'https://evil.example' })).toBe(true);
    expect(post({ origin: 'http://app.example.com' })).toBe(true);
  });

  it('cookieless allowed (@AllowCrossSite()): any origin without our cookies passes, never with one', () => {
    const cross = {
      method: 'POST',
      headers: { host: 'app.example.com', 'sec-fetch-site': 'cross-site', origin: 'https://idp.example' },
    };
    expect(refusesCrossSite(cross, cookies, false, true)).toBe(false);
    expect(
      refusesCrossSite(
        { ...cross, headers: { ...cross.headers, cookie: '__Secure-refresh-token=y' } },
        cookies,
        false,
        true,
      ),
    ).toBe(true);
    expect(refusesCrossSite(cross, cookies, false, false)).toBe(true);
  });

  it('with neither header: refused when a cookie of ours is there, either one, accepted otherwise', () => {
    expect(post({})).toBe(false);
    expect(post({ cookie: 'theme=dark' })).toBe(false);
    expect(post({ cookie: '__Host-access-token=x' })).toBe(true);
    expect(post({ cookie: 'theme=dark; __Secure-refresh-token=y' })).toBe(true);
  });
});

describe('ownOrigin', () => {
  it('is the scheme cookie mode implies and the Host header, as a browser writes an Origin', () => {
    expect(ownOrigin({ host: 'app.example.com' }, true)).toBe('https://app.example.com');
    expect(ownOrigin({ host: 'localhost:3000' }, false)).toBe('http://localhost:3000');
    expect(ownOrigin({ host: 'APP.Example.com:443' }, true)).toBe('https://app.example.com');
    expect(ownOrigin({ host: 'localhost:80' }, false)).toBe('http://localhost');
    expect(ownOrigin({ host: '[::1]:3000' }, false)).toBe('http://[::1]:3000');
  });

  it('is none for a missing Host, or one that could smuggle userinfo or a path', () => {
    expect(ownOrigin({}, true)).toBeNull();
    expect(ownOrigin({ host: 'app.example.com@evil.example' }, true)).toBeNull();
    expect(ownOrigin({ host: 'evil.example/app.example.com' }, true)).toBeNull();
    expect(ownOrigin({ host: '' }, true)).toBeNull();
  });

  it('never reads X-Forwarded-Host', () => {
    expect(ownOrigin({ host: 'backend:3000', 'x-forwarded-host': 'app.example.com' }, true)).toBe(
      'https://backend:3000',
    );
  });
});
