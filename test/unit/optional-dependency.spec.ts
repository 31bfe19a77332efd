import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { JwtRevocationOptionsError } from 'nestjs-jwt-revocation';
import { loadOptional } from 'nestjs-jwt-revocation/testing';

/** Not installed anywhere: the path a missing ioredis takes, with a name that is really missing. */
const missing = 'nestjs-jwt-revocation-no-such-optional-peer';

describe('an optional dependency that is not installed', () => {
  it('names the option and the install command when import() cannot find it (the ESM build)', async () => {
    const error = await loadOptional(missing, 'redis', () => import(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JwtRevocationOptionsError);
    expect((error as Error).message).toBe(
      `JwtRevocationModule: option "redis" needs the ${missing} package: npm install ${missing}`,
    );
  });

  it('does the same when require() cannot find it (the CommonJS build)', async () => {
    const require = createRequire(import.meta.url);
    const error = await loadOptional(missing, 'redis', async () => require(missing)).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `JwtRevocationModule: option "redis" needs the ${missing} package: npm install ${missing}`,
    );
  });

  it('gives the text the redis option shows without ioredis', async () => {
    const notFound = Object.assign(new Error("Cannot find package 'ioredis' imported from /app/dist/esm/x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(loadOptional('ioredis', 'redis', () => Promise.reject(notFound))).rejects.toThrow(
      'JwtRevocationModule: option "redis" needs the ioredis package: npm install ioredis',
    );
  });

  it('lets any other failure through unchanged: a missing dependency of the package, a broken install', async () => {
    const inner = Object.assign(
      new Error("Cannot find package 'denque' imported from /app/node_modules/ioredis/built/index.js"),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    await expect(loadOptional('ioredis', 'redis', () => Promise.reject(inner))).rejects.toBe(inner);
    const broken = new SyntaxError('Unexpected token');
    await expect(loadOptional('ioredis', 'redis', () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('returns the module when it is installed', async () => {
    const ioredis = await loadOptional('ioredis', 'redis', () => import('ioredis'));
    expect(typeof ioredis.Redis).toBe('function');
  });
});
