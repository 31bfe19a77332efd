import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// scripts/check-promises.mjs is what makes "every promise names its test" hold in
// CI. It runs here on a small project of its own: one test file, one document.
const script = resolve('scripts/check-promises.mjs');

const testFile = `
import { describe, it } from '@jest/globals';
eachDatabase('refresh tokens', (db) => {
  describe('rotation', () => {
    it('spends the old token and records the chain', async () => {});
    it(\`survives \${ROUNDS} rounds of racing\`, async () => {});
  });
  it.each([['a'], ['b']])('refuses a token %s: a plain 401', async () => {});
  describe.each([{ path: '/login' }])('POST $path', ({ path }) => {
    it('a bad body is a 400 naming the field', async () => void path);
  });
});
// it('a commented-out test', () => {});
const note = 'a string that is not a title';
`;

function check(rows: string[]): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'check-promises-'));
  mkdirSync(join(dir, 'test'));
  writeFileSync(join(dir, 'test/a.spec.ts'), testFile);
  writeFileSync(join(dir, 'DOC.md'), ['| promise | proved by |', '| --- | --- |', ...rows, ''].join('\n'));
  const run = spawnSync(process.execPath, [script, 'DOC.md'], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('scripts/check-promises.mjs', () => {
  it('passes rows whose tests exist: exact titles, "…" parts, "group: test", template and %s titles', () => {
    const result = check([
      '| rotates | `test/a.spec.ts` "spends the old token and records the chain" |',
      '| by a part | `test/a.spec.ts` "spends the old token…", "…records the chain", "…old token and…" |',
      '| in a group | `test/a.spec.ts` "rotation: spends the old token and records the chain", "refresh tokens" |',
      '| races | `test/a.spec.ts` "survives 10 rounds of racing", "refuses a token %s: a plain 401" |',
      '| each | `test/a.spec.ts` "POST $path: a bad body is a 400 naming the field" |',
    ]);
    expect(result).toEqual({ status: 0, output: expect.stringContaining('5 promises') });
  });

  it.each([
    ['a row that names no test file', '| a promise | none yet |', 'names no test file'],
    ['a file that does not exist', '| a promise | `test/gone.spec.ts` "x" |', 'test/gone.spec.ts does not exist'],
    ['a file with no test named', '| a promise | `test/a.spec.ts` |', 'no test named after test/a.spec.ts'],
    [
      'a renamed test',
      '| a promise | `test/a.spec.ts` "spends the old token" |',
      'no test titled "spends the old token"',
    ],
    ['a part that is no title start', '| a promise | `test/a.spec.ts` "old token…" |', 'no test titled "old token…"'],
    [
      'a string that is not a title',
      '| a promise | `test/a.spec.ts` "a string that is not a title" |',
      'no test titled',
    ],
    ['a commented-out test', '| a promise | `test/a.spec.ts` "a commented-out test" |', 'no test titled'],
    [
      'a wrong group',
      '| a promise | `test/a.spec.ts` "reuse: spends the old token and records the chain" |',
      'no test titled',
    ],
  ])('fails the build for %s', (_name, row, message) => {
    const result = check(['| rotates | `test/a.spec.ts` "spends the old token and records the chain" |', row]);
    expect(result.status).toBe(1);
    expect(result.output).toContain(message);
  });

  it('fails a document with no promise table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-promises-'));
    writeFileSync(join(dir, 'DOC.md'), '# Nothing promised\n');
    const run = spawnSync(process.execPath, [script, 'DOC.md'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no "| promise | proved by |" table');
  });
});
