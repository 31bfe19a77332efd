// Jest runs Nest 12 (ESM only) in ESM mode: see README "Tests".
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/*.browser-spec.ts'],
  // test/consumers runs apart (npm run test:consumers): its files are copied into generated apps.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumers/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-jwt-revocation$': '<rootDir>/lib/index.ts',
    '^nestjs-jwt-revocation/testing$': '<rootDir>/lib/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    // ts-jest, through its async path: the one that fails a spec on a type error (see the file).
    '^.+\\.ts$': [
      '<rootDir>/test/support/ts-jest-type-checked.js',
      {
        useESM: true,
        tsconfig: '<rootDir>/tsconfig.json',
        // TS151002 asks for isolatedModules with NodeNext. That would make ts-jest
        // transpile each file alone, without the type checker; under useESM it
        // emits ESM for NodeNext already, so the message asks for nothing we need.
        diagnostics: { warnOnly: false, ignoreCodes: [151002] },
      },
    ],
  },
  testTimeout: 30000,
};
