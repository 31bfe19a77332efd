import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { ForbiddenException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InvalidTokenException, RevocableJwtGuard, SessionCookies, StaleStateException } from 'nestjs-jwt-revocation';
import { INVALID_TOKEN_CHALLENGE, JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { TEST_SECRET } from '../support/keys.js';

/**
 * What the guard's refusal writes on responses other than Express's and Fastify's
 * (the e2e suites cover those two): Node's own ServerResponse, which has only
 * setHeader, and a context with no HTTP response at all (GraphQL, say).
 */
const guard = new RevocableJwtGuard(
  new Reflector(),
  undefined as never,
  new SessionCookies(JwtRevocationConfig.from({ signing: { secret: TEST_SECRET } })),
  undefined as never,
);

const contextWith = (response: object) =>
  ({ switchToHttp: () => ({ getResponse: () => response }) }) as unknown as ExecutionContext;

/** A response with setHeader alone, as node:http's ServerResponse: the headers it was given. */
function nodeResponse() {
  const headers: Record<string, string> = {};
  return { headers, setHeader: (name: string, value: string) => void (headers[name] = value) };
}

describe('RevocableJwtGuard.handleRequest on other responses', () => {
  it('a response with setHeader alone gets the 401 challenge through it', () => {
    const response = nodeResponse();
    expect(() => guard.handleRequest(undefined, false, undefined, contextWith(response))).toThrow(
      InvalidTokenException,
    );
    expect(response.headers).toEqual({ 'WWW-Authenticate': INVALID_TOKEN_CHALLENGE });
  });

  it('a stale state: the 503 gets Retry-After through setHeader', () => {
    const response = nodeResponse();
    expect(() => guard.handleRequest(new StaleStateException(), false, undefined, contextWith(response))).toThrow(
      StaleStateException,
    );
    expect(response.headers).toEqual({ 'Retry-After': '5' });
  });

  it('a context with no way to set a header still refuses with the 401, not a TypeError', () => {
    expect(() => guard.handleRequest(undefined, false, undefined, contextWith({}))).toThrow(InvalidTokenException);
  });

  it('an HttpException of another status (the app hook’s 403) passes as it is: no Retry-After, no challenge', () => {
    const response = nodeResponse();
    const forbidden = new ForbiddenException();
    expect(() => guard.handleRequest(forbidden, false, undefined, contextWith(response))).toThrow(forbidden);
    expect(response.headers).toEqual({});
  });
});
