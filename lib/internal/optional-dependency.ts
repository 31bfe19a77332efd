import { fail } from '../errors/jwt-revocation-options.error.js';

/**
 * Loads an optional peer dependency that an option asked for. When the
 * package itself is not installed, the error names the option and the install
 * command, instead of Node's ERR_MODULE_NOT_FOUND from inside the library.
 * Any other failure (a package of its own missing, a broken install) is
 * thrown unchanged: it is not this one.
 *
 * `load` is the `import()` itself, written out by the caller: a literal
 * specifier stays visible to bundlers and to the CommonJS build's `require`.
 */
export async function loadOptional<T>(name: string, option: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isNotInstalled(error, name)) fail(`option "${option}" needs the ${name} package: npm install ${name}`);
    throw error;
  }
}

/**
 * An optional package the module uses when the app has it, and does without
 * otherwise (no option asks for it): its exports, or null when it is not
 * installed. Any other failure is thrown, as `loadOptional` does.
 */
export async function loadIfInstalled<T>(name: string, load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    if (isNotInstalled(error, name)) return null;
    throw error;
  }
}

/**
 * Node says `Cannot find package 'ioredis' imported from ...` (ESM) or
 * `Cannot find module 'ioredis'` (require); a dependency of the package that
 * is missing quotes its own name, not this one.
 */
function isNotInstalled(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    (message.includes(`'${name}'`) || message.includes(`"${name}"`))
  );
}
