import { fileURLToPath } from 'node:url';

/**
 * Every copy of the library loaded in this process, by the URL of its
 * own-location file. On globalThis under a registered symbol, so that two
 * copies (the ESM and the CommonJS build, or two installs) see one list.
 */
export const LOADED_COPIES = Symbol.for('nestjs-jwt-revocation.copies');

/** The code of the warning, stable for `process.on('warning')` and `--disable-warning`. */
export const DUAL_PACKAGE_WARNING = 'NESTJS_JWT_REVOCATION_DUAL_PACKAGE';

/** A copy's build folder (`.../dist/esm/`), which says more than its file URL. */
function location(url: string): string {
  try {
    return fileURLToPath(new URL('../', url));
  } catch {
    return url;
  }
}

/**
 * Records this copy; warns when another copy was loaded before it. Two
 * copies mean two `JwtRevocationModule` and `TokenLogService` classes: Nest
 * resolves providers by class, so a service injected from one copy is not
 * found in the other's module, with an error that says nothing of why.
 */
export function registerCopy(url: string): void {
  const global = globalThis as { [LOADED_COPIES]?: unknown };
  // An array, not a Set: another version of the library reads the same list.
  const copies = Array.isArray(global[LOADED_COPIES]) ? (global[LOADED_COPIES] as string[]) : [];
  global[LOADED_COPIES] = copies;
  if (copies.includes(url)) return;
  copies.push(url);
  if (copies.length < 2) return;
  process.emitWarning(
    `nestjs-jwt-revocation is loaded ${copies.length === 2 ? 'twice' : `${copies.length} times`} in this process, from ${copies.map(location).join(' and from ')}. ` +
      'Nest sees a JwtRevocationModule and a TokenLogService per copy, and a provider of one copy is not found by ' +
      'the other. Load the package one way (import in an ESM app, require in a CommonJS app), and install one copy ' +
      '(npm ls nestjs-jwt-revocation).',
    { code: DUAL_PACKAGE_WARNING },
  );
}
