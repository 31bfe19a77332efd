import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { UnsupportedPeerError } from 'nestjs-jwt-revocation';
import { installedVersion, SUPPORTED_PEERS, unsupportedPeer } from 'nestjs-jwt-revocation/testing';

/** What forRoot() judges, with every peer on a supported version. */
const supported = {
  '@nestjs/common': '12.5.1',
  '@nestjs/core': '11.0.0',
  '@nestjs/passport': '11.0.5',
  '@nestjs/typeorm': '12.0.2',
  typeorm: '0.3.20',
  'passport-jwt': '4.0.1',
};

describe('peer versions at forRoot()', () => {
  it('judges by the peerDependencies of package.json, the one place the ranges are written', () => {
    const { peerDependencies } = createRequire(import.meta.url)('../../package.json') as {
      peerDependencies: Record<string, string>;
    };
    expect(Object.keys(SUPPORTED_PEERS).sort()).toEqual(
      ['@nestjs/common', '@nestjs/core', '@nestjs/passport', '@nestjs/typeorm', 'passport-jwt', 'typeorm'].sort(),
    );
    for (const [name, ranges] of Object.entries(SUPPORTED_PEERS)) {
      expect(ranges.join(' || ')).toBe(
        peerDependencies[name]!.split('||')
          .map((r) => r.trim())
          .join(' || '),
      );
    }
  });

  it('accepts Nest 11 and 12, TypeORM ^0.3.20 and 1, passport-jwt 4', () => {
    expect(unsupportedPeer(supported)).toBeUndefined();
    expect(unsupportedPeer({ ...supported, typeorm: '1.1.1', '@nestjs/core': '12.5.1' })).toBeUndefined();
    expect(unsupportedPeer({ ...supported, typeorm: '0.3.27' })).toBeUndefined();
  });

  it('names the package, the version, the range and what to do for a major below', () => {
    const error = unsupportedPeer({ ...supported, '@nestjs/core': '10.4.15' });
    expect(error).toBeInstanceOf(UnsupportedPeerError);
    expect(error).toMatchObject({
      code: 'NESTJS_JWT_REVOCATION_UNSUPPORTED_PEER',
      packageName: '@nestjs/core',
      installed: '10.4.15',
      supported: '^11 || ^12',
    });
    expect(error!.message).toBe(
      'JwtRevocationModule: @nestjs/core 10.4.15 is installed, and nestjs-jwt-revocation supports @nestjs/core ' +
        '^11 || ^12. Install a supported version (npm install @nestjs/core@12), or a release of ' +
        'nestjs-jwt-revocation that supports @nestjs/core 10.4.15.',
    );
  });

  it('refuses a major above', () => {
    expect(unsupportedPeer({ ...supported, '@nestjs/common': '13.0.0' })?.message).toContain(
      '@nestjs/common 13.0.0 is installed, and nestjs-jwt-revocation supports @nestjs/common ^11 || ^12',
    );
    expect(unsupportedPeer({ ...supported, 'passport-jwt': '5.0.0' })?.message).toContain('npm install passport-jwt@4');
    expect(unsupportedPeer({ ...supported, typeorm: '2.0.0' })?.message).toContain('npm install typeorm@1');
  });

  it('reads ^0.3.20 as npm does: 0.3.19 and 0.4 are out, the fix stays on 0.3', () => {
    expect(unsupportedPeer({ ...supported, typeorm: '0.3.19' })?.message).toContain(
      'typeorm 0.3.19 is installed, and nestjs-jwt-revocation supports typeorm ^0.3.20 || ^1. ' +
        'Install a supported version (npm install typeorm@0.3)',
    );
    expect(unsupportedPeer({ ...supported, typeorm: '0.4.0' })).toBeDefined();
    expect(unsupportedPeer({ ...supported, typeorm: '0.2.45' })).toBeDefined();
  });

  it('counts a pre-release as its release', () => {
    expect(unsupportedPeer({ ...supported, '@nestjs/core': '12.0.0-rc.1' })).toBeUndefined();
    expect(unsupportedPeer({ ...supported, typeorm: '1.0.0-beta.2' })).toBeUndefined();
    expect(unsupportedPeer({ ...supported, '@nestjs/core': '13.0.0-next.0' })?.installed).toBe('13.0.0-next.0');
  });

  it('skips a package it could not read, or whose version does not parse', () => {
    expect(unsupportedPeer({ ...supported, '@nestjs/typeorm': undefined, typeorm: undefined })).toBeUndefined();
    expect(unsupportedPeer({ ...supported, typeorm: 'workspace:*' })).toBeUndefined();
  });
});

describe('installedVersion', () => {
  const require = createRequire(import.meta.url);

  it('reads <pkg>/package.json', () => {
    expect(installedVersion('@nestjs/common')).toBe(require('@nestjs/common/package.json').version);
  });

  it("finds the package.json an exports map hides (TypeORM 1's require condition)", () => {
    // Through require, typeorm/package.json is mapped to package.json.js.
    expect(() => require('typeorm/package.json')).toThrow();
    expect(installedVersion('typeorm')).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('gives undefined for a package that is not installed', () => {
    expect(installedVersion('nestjs-jwt-revocation-no-such-peer')).toBeUndefined();
  });
});
