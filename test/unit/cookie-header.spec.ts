import { describe, expect, it } from '@jest/globals';
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { appendSetCookie, serializeCookie } from 'nestjs-jwt-revocation/testing';

/** Writing Set-Cookie on the responses the e2e suites do not run: node:http's own, and objects that are no response. */
describe('appendSetCookie', () => {
  it("on node:http's ServerResponse: adds to the app's Set-Cookie headers, replacing none", () => {
    const response = new ServerResponse(new IncomingMessage(new Socket()));
    response.setHeader('Set-Cookie', 'theme=dark');
    expect(appendSetCookie(response, 'a=1')).toBe(true);
    expect(appendSetCookie(response, 'b=2')).toBe(true);
    expect(response.getHeader('Set-Cookie')).toEqual(['theme=dark', 'a=1', 'b=2']);
  });

  it('on an object with getHeader and setHeader only: the same, from one value or none', () => {
    const headers = new Map<string, unknown>();
    const response = {
      getHeader: (name: string) => headers.get(name),
      setHeader: (name: string, value: unknown) => void headers.set(name, value),
    };
    appendSetCookie(response, 'a=1');
    expect(headers.get('Set-Cookie')).toEqual(['a=1']);
    headers.set('Set-Cookie', 'theme=dark');
    appendSetCookie(response, 'b=2');
    expect(headers.get('Set-Cookie')).toEqual(['theme=dark', 'b=2']);
  });

  it('false for what is no HTTP response (a GraphQL context, undefined)', () => {
    expect(appendSetCookie(undefined, 'a=1')).toBe(false);
    expect(appendSetCookie({}, 'a=1')).toBe(false);
    expect(appendSetCookie('res', 'a=1')).toBe(false);
  });
});

describe('serializeCookie', () => {
  it('writes the attributes in a fixed order, always HttpOnly, and encodes the value', () => {
    expect(
      serializeCookie('n', 'a b;c', {
        path: '/p',
        maxAge: 10.7,
        secure: true,
        sameSite: 'Strict',
        domain: 'example.com',
      }),
    ).toBe('n=a%20b%3Bc; Max-Age=10; Domain=example.com; Path=/p; HttpOnly; Secure; SameSite=Strict');
    expect(serializeCookie('n', '', { path: '/', maxAge: -3, secure: false, sameSite: 'Lax' })).toBe(
      'n=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax',
    );
  });
});
