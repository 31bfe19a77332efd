// SECURITY.md and README.md keep their promises in tables whose header is
// `| promise | proved by |`. Each row's second cell names one or more test files
// (`test/<file>`), each followed by the quoted names of tests in it:
//   "exact title"          a test (or describe) with that title
//   "start of a title…"    "…end of it", "…middle…": a title that starts, ends or contains it
//   "group: title"         a test inside a describe (or eachDatabase) with that title
// This exits 1 when a row names no test, a file is gone, or a quoted name is not
// the title of a test in the file named before it: a promise whose test was
// renamed or deleted fails the build until it points at the test that proves it.
// Other mentions of test files in both documents are checked for existence.
import { existsSync, readFileSync } from 'node:fs';

// The documents to check, relative to the working directory (test files too).
const DOCS = process.argv.length > 2 ? process.argv.slice(2) : ['SECURITY.md', 'README.md'];
const squash = (text) => text.replace(/\s+/g, ' ').trim();

/**
 * The titles of a test file: the first argument of every call that takes a
 * title and a function (it, test, describe, it.each(...)(...), eachDatabase and
 * the like), as text and as a pattern in which `${...}` of a template literal,
 * Jest's `$name` of `.each` and printf-style `%s` match anything.
 */
const titleCache = new Map();
function titles(file) {
  if (titleCache.has(file)) return titleCache.get(file);
  // Line comments out: a test commented out is no test.
  const source = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const found = [];
  const literal = /(['"`])((?:\\.|(?!\1)[^\\])*)\1\s*,\s*(?:async\s*)?(?:\(|function\b|\w+\s*=>)/g;
  for (const match of source.matchAll(literal)) {
    if (!source.slice(0, match.index).trimEnd().endsWith('(')) continue;
    const text = squash(match[2].replace(/\\(['"`\\])/g, '$1'));
    const pattern = text
      .split(/(\$\{[^}]*\}|\$[A-Za-z_][\w.]*|%[sdipfjo#])/)
      .map((piece, i) => (i % 2 ? '.*' : piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    found.push({ text, pattern: new RegExp(`^${pattern}$`) });
  }
  titleCache.set(file, found);
  return found;
}

/** Does the file hold a test or describe titled `name` ("…" at an end: part of a title)? */
function hasTitle(file, name) {
  const starts = name.startsWith('…');
  const ends = name.endsWith('…');
  const bare = squash(name.replace(/^…|…$/g, ''));
  return titles(file).some(({ text, pattern }) => {
    if (starts && ends) return text.includes(bare);
    if (ends) return text.startsWith(bare);
    if (starts) return text.endsWith(bare);
    return pattern.test(bare);
  });
}

/** "describe: test": try every split at ": ", the whole name first. */
function proves(file, quoted) {
  if (hasTitle(file, quoted)) return true;
  const parts = quoted.split(': ');
  for (let i = 1; i < parts.length; i++) {
    const group = parts.slice(0, i).join(': ');
    const test = parts.slice(i).join(': ');
    if (hasTitle(file, group) && hasTitle(file, test)) return true;
  }
  return false;
}

/** Split a table row into cells, leaving `\|` and pipes inside backticks alone. */
function cells(row) {
  const out = [];
  let cell = '';
  let code = false;
  for (let i = 0; i < row.length; i++) {
    const ch = row[i];
    if (ch === '`') code = !code;
    if (ch === '\\' && row[i + 1] === '|') {
      cell += '|';
      i++;
      continue;
    }
    if (ch === '|' && !code) {
      out.push(cell.trim());
      cell = '';
      continue;
    }
    cell += ch;
  }
  out.push(cell.trim());
  return out.slice(1, -1);
}

const problems = [];
let rows = 0;
let references = 0;

for (const doc of DOCS) {
  const lines = readFileSync(doc, 'utf8').split('\n');
  let tables = 0;
  for (let i = 0; i < lines.length; i++) {
    const header = cells(lines[i]).map((cell) => cell.toLowerCase());
    if (header.length !== 2 || header[0] !== 'promise' || header[1] !== 'proved by') continue;
    tables++;
    for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j++) {
      const [promise, provedBy = ''] = cells(lines[j]);
      const where = `${doc}:${j + 1}`;
      rows++;
      const pieces = provedBy.split(/`(test\/[\w./-]+\.ts)`/);
      if (pieces.length < 3) problems.push(`${where}: "${promise.slice(0, 60)}…" names no test file`);
      for (let k = 1; k < pieces.length; k += 2) {
        const file = pieces[k];
        references++;
        if (!existsSync(file)) {
          problems.push(`${where}: ${file} does not exist`);
          continue;
        }
        const names = [...pieces[k + 1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
        if (!names.length) problems.push(`${where}: no test named after ${file}`);
        for (const name of names) {
          references++;
          if (!proves(file, name)) problems.push(`${where}: no test titled "${name}" in ${file}`);
        }
      }
    }
  }
  if (!tables) problems.push(`${doc}: no "| promise | proved by |" table`);
  // Every other mention of a test file must name one that exists.
  for (const [, file] of readFileSync(doc, 'utf8').matchAll(/`(test\/[\w./-]+\.(?:ts|mjs|js))`/g)) {
    if (!existsSync(file)) problems.push(`${doc}: ${file} does not exist`);
  }
}

if (problems.length) {
  console.error(`promises: ${problems.length} problem(s):`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`promises: ${rows} promises, ${references} references to test files and tests, all found`);
