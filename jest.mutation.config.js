// Jest for the mutation run (npm run test:mutation, stryker.config.mjs): jest.config.js
// with these changes.
//
// - ts-jest transpiles each file alone (isolatedModules), without the type checker.
//   Stryker puts every mutant of a file into it at once, behind a switch, and marks
//   the file `// @ts-nocheck`; a type error must not fail a spec either, or a mutant
//   that only breaks a type would count as killed by a test that never ran.
// - Only the suites that exercise the mutated files directly: test/unit, test/storage,
//   test/e2e/guard and the hostile tokens (see testMatch). A mutant runs only the tests
//   that reached it, but a mutant no test kills runs all of those, and the sample's
//   suites reach nearly everything: with them a run took hours.
// - A runner, an environment and a sequencer that make a mutant run stop at its first
//   failing test and load only the spec files with a test that reached the mutant
//   (test/support/mutation-*.cjs). Outside a Stryker mutant run they change nothing.
import { fileURLToPath } from 'node:url';
import base from './jest.config.js';

// Absolute: Stryker loads the environment itself, and does not expand <rootDir>.
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

export default {
  ...base,
  // lib and sample too, so that Jest's --findRelatedTests (which Stryker uses) can follow
  // the imports from a mutated file to the specs; testMatch still finds specs only.
  roots: [...base.roots, '<rootDir>/lib', '<rootDir>/sample'],
  // The suites that exercise the mutated files directly. The sample's e2e suites and
  // the module, health and fail-open ones reach the same code through more layers:
  // left out for time, so a mutant that only they would kill counts as survived here.
  testMatch: [
    '<rootDir>/test/unit/**/*.spec.ts',
    '<rootDir>/test/storage/**/*.spec.ts',
    '<rootDir>/test/e2e/guard/**/*.e2e-spec.ts',
    '<rootDir>/test/e2e/hostile-tokens.e2e-spec.ts',
  ],
  testPathIgnorePatterns: [
    ...base.testPathIgnorePatterns,
    // The archive (its crash test runs the built CLI) and module shutdown: other files.
    '<rootDir>/test/storage/archive',
    '<rootDir>/test/storage/shutdown',
  ],
  testEnvironment: here('./test/support/mutation-environment.cjs'),
  testRunner: here('./test/support/mutation-jest-circus.cjs'),
  testSequencer: here('./test/support/mutation-sequencer.cjs'),
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        useESM: true,
        tsconfig: { isolatedModules: true },
        diagnostics: false,
      },
    ],
  },
};
