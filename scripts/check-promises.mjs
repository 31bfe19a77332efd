// Every promise in SECURITY.md names the test that proves it: `test/<file>`,
// then the test's name in quotes ("…" at an end: the name goes on; "group: name"
// for a test inside a describe). This
// fails (exit 1) when a named file is gone, or a quoted name is no longer a
// test in the file named before it: a renamed or deleted test must take its
// promise with it, or the promise must point at the test that replaced it.
// README.md's references to test files are checked for existence too.
import { existsSync, readFileSync } from 'node:fs';

const squash = (text) => text.replace(/\s+/g, ' ');
const problems = [];
let checked = 0;

/** The file's source, whitespace squashed, with `\'` read as `'` (test names in single quotes). */
const sources = new Map();
function source(file) {
  if (!sources.has(file)) sources.set(file, squash(readFileSync(file, 'utf8')).replace(/\\'/g, "'"));
  return sources.get(file);
}

function check(doc, { names }) {
  const text = squash(readFileSync(doc, 'utf8'));
  // A file reference, then the quoted names up to the next file reference.
  const pieces = text.split(/`(test\/[\w./-]+\.ts)`/);
  for (let i = 1; i < pieces.length; i += 2) {
    const file = pieces[i];
    checked++;
    if (!existsSync(file)) {
      problems.push(`${doc}: ${file} does not exist`);
      continue;
    }
    if (!names) continue;
    // Up to the end of the bullet or sentence group: the next file reference ends it too.
    const after = pieces[i + 1].split(/ - | Not promised:|\n/)[0];
    for (const [, quoted] of after.matchAll(/"([^"]+)"/g)) {
      // "…" at either end: the name contains this. "group: name" is a describe and a test in it.
      const name = quoted.replace(/^…|…$/g, '').trim();
      const parts = source(file).includes(name) ? [name] : name.split(': ');
      checked++;
      if (!parts.every((part) => source(file).includes(part))) {
        problems.push(`${doc}: no test named "${quoted}" in ${file}`);
      }
    }
  }
}

check('SECURITY.md', { names: true });
check('README.md', { names: false });

if (problems.length) {
  console.error(`promises: ${problems.length} reference(s) to tests that do not exist:`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`promises: ${checked} references to test files and test names, all found`);
