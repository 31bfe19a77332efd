import { createRequire } from 'node:module';

/**
 * Where this copy of the library was loaded from, and a `require` that
 * resolves from there (the app's peers, as the library sees them).
 *
 * `import.meta` is ESM syntax: scripts/build.mjs writes the CommonJS build of
 * this one file by hand, from `__filename`.
 */
// @ts-ignore TS1343 in the CommonJS compile only; that build's output of this file is replaced.
export const OWN_URL: string = import.meta.url;
export const ownRequire = createRequire(OWN_URL);
