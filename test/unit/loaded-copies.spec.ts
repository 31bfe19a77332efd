import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DUAL_PACKAGE_WARNING, LOADED_COPIES, registerCopy } from 'nestjs-jwt-revocation/testing';

const esm = 'file:///app/node_modules/nestjs-jwt-revocation/dist/esm/internal/own-location.js';
const cjs = 'file:///app/node_modules/nestjs-jwt-revocation/dist/cjs/internal/own-location.js';

describe('two copies of the library in one process', () => {
  let emitWarning: jest.Spied<typeof process.emitWarning>;
  // Start from an empty list, whatever this spec's own imports registered.
  let before: unknown;

  beforeEach(() => {
    before = (globalThis as Record<symbol, unknown>)[LOADED_COPIES];
    delete (globalThis as Record<symbol, unknown>)[LOADED_COPIES];
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });

  afterEach(() => {
    emitWarning.mockRestore();
    (globalThis as Record<symbol, unknown>)[LOADED_COPIES] = before;
  });

  it('keeps the list on globalThis under a registered symbol, where every copy finds it', () => {
    registerCopy(esm);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('nestjs-jwt-revocation.copies')]).toEqual([esm]);
  });

  it('warns when a second copy loads, naming both and the fix', () => {
    registerCopy(esm);
    expect(emitWarning).not.toHaveBeenCalled();
    registerCopy(cjs);
    expect(emitWarning).toHaveBeenCalledTimes(1);
    expect(emitWarning).toHaveBeenCalledWith(
      'nestjs-jwt-revocation is loaded twice in this process, from ' +
        '/app/node_modules/nestjs-jwt-revocation/dist/esm/ and from ' +
        '/app/node_modules/nestjs-jwt-revocation/dist/cjs/. Nest sees a JwtRevocationModule and a ' +
        'TokenLogService per copy, and a provider of one copy is not found by the other. Load the package one ' +
        'way (import in an ESM app, require in a CommonJS app), and install one copy (npm ls nestjs-jwt-revocation).',
      { code: 'NESTJS_JWT_REVOCATION_DUAL_PACKAGE' },
    );
    expect(DUAL_PACKAGE_WARNING).toBe('NESTJS_JWT_REVOCATION_DUAL_PACKAGE');
  });

  it('does not warn when the same copy registers again (a test runner re-importing it)', () => {
    registerCopy(esm);
    registerCopy(esm);
    expect(emitWarning).not.toHaveBeenCalled();
  });
});
