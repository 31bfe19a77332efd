import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UnsupportedPeerError } from '../errors/unsupported-peer.error.js';
import { fileURLToPath } from 'node:url';
import { OWN_URL, ownRequire } from './own-location.js';

/** The peers checked at `forRoot()`. */
const CHECKED_PEERS = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/passport',
  '@nestjs/typeorm',
  'typeorm',
  'passport-jwt',
];

/**
 * The ranges this release supports, read from its own package.json
 * (`peerDependencies`, the one place they are written), as lists of `^`
 * ranges. Checked at `forRoot()`: a Nest 10 or a TypeORM 0.2 fails there with
 * its name and version, instead of later in Nest's injector or in a query,
 * with an error that names neither. Empty when package.json cannot be read
 * (a bundle): then nothing is judged.
 */
export const SUPPORTED_PEERS: Readonly<Record<string, readonly string[]>> = (() => {
  const peers = ownPackageJson()?.peerDependencies ?? {};
  return Object.fromEntries(
    CHECKED_PEERS.filter((name) => peers[name]).map((name) => [name, peers[name]!.split('||').map((r) => r.trim())]),
  );
})();

/**
 * The library's package.json: the nearest one up from this file that carries
 * its name (dist/cjs has a package.json of its own, with only a `type`).
 */
function ownPackageJson(): { peerDependencies?: Record<string, string> } | undefined {
  let dir = dirname(fileURLToPath(OWN_URL));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        peerDependencies?: Record<string, string>;
      };
      if (json.name === 'nestjs-jwt-revocation') return json;
    } catch {
      // No package.json here: go up.
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Needed only by the default store: an app with its own `store` may not install them. */
export const TYPEORM_PEERS: readonly string[] = ['@nestjs/typeorm', 'typeorm'];

interface Version {
  major: number;
  minor: number;
  patch: number;
}

/** `major.minor.patch`; a pre-release counts as its release (12.0.0-rc.1 is 12.0.0). */
export function parseVersion(text: string): Version | undefined {
  const match = /^\s*[v=]?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2] ?? 0), patch: Number(match[3] ?? 0) };
}

const compare = (a: Version, b: Version) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;

/** npm's caret: `^1.2.3` is >=1.2.3 <2, `^0.3.20` is >=0.3.20 <0.4. */
function inCaret(version: Version, range: string): boolean {
  const min = parseVersion(range.slice(1))!;
  if (compare(version, min) < 0) return false;
  if (min.major > 0) return version.major === min.major;
  if (min.minor > 0) return version.major === 0 && version.minor === min.minor;
  return version.major === 0 && version.minor === 0 && version.patch === min.patch;
}

/** What `npm install` should ask for: the supported range on the installed major, else the newest. */
function installSpec(name: string, ranges: readonly string[], found: Version): string {
  const min = (range: string) => parseVersion(range.slice(1))!;
  const near = ranges.find((range) => min(range).major === found.major) ?? ranges[ranges.length - 1]!;
  const { major, minor } = min(near);
  // 12, or 0.3 (which npm reads as >=0.3.0 <0.4.0): no ^, which some shells treat as special.
  return `${name}@${major > 0 ? major : `0.${minor}`}`;
}

/**
 * The first peer whose version is outside its range, as the error to throw.
 * `versions` maps a package to its installed version; a package missing from
 * it, or whose version does not parse, was not readable and is not judged.
 */
export function unsupportedPeer(
  versions: Readonly<Record<string, string | undefined>>,
): UnsupportedPeerError | undefined {
  for (const [name, installed] of Object.entries(versions)) {
    const ranges = SUPPORTED_PEERS[name];
    const version = installed === undefined ? undefined : parseVersion(installed);
    if (!ranges || !version || ranges.some((range) => inCaret(version, range))) continue;
    return new UnsupportedPeerError(name, installed!, ranges.join(' || '), installSpec(name, ranges, version));
  }
  return undefined;
}

/**
 * The installed version of a package, as the library resolves it, or
 * undefined when it cannot be read. `<pkg>/package.json` first; an exports map
 * that hides it (TypeORM 1's `./*` maps it to `package.json.js` for require)
 * leaves the package's entry point, from which the nearest package.json of
 * that name is the package's own.
 */
export function installedVersion(name: string, require: NodeJS.Require = ownRequire): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version?: string }).version;
  } catch {
    // Hidden by the exports map, or not installed: try the entry point.
  }
  try {
    let dir = dirname(require.resolve(name));
    for (;;) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (json.name === name) return json.version;
      } catch {
        // No package.json at this level (a dist/ folder), or not JSON: go up.
      }
      const parent = dirname(dir);
      if (parent === dir || dir.endsWith('node_modules')) return undefined;
      dir = parent;
    }
  } catch {
    // Not resolvable from here (not installed, or no entry for require): not judged.
    return undefined;
  }
}

const checked = new Set<string>();

/**
 * Throws `UnsupportedPeerError` for a peer outside its range. Each package is
 * read once per process: `forRoot()` runs once per app, but a test suite
 * builds many apps.
 */
export function assertSupportedPeers(usesTypeOrm: boolean): void {
  const names = Object.keys(SUPPORTED_PEERS).filter(
    (name) => !checked.has(name) && (usesTypeOrm || !TYPEORM_PEERS.includes(name)),
  );
  if (names.length === 0) return;
  const error = unsupportedPeer(Object.fromEntries(names.map((name) => [name, installedVersion(name)])));
  if (error) throw error;
  for (const name of names) checked.add(name);
}
