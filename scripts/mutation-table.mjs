#!/usr/bin/env node
// The per-file table of README "Mutation testing", from the JSON report of the last
// `npm run test:mutation` (reports/mutation/mutation.json), so the table is the run's
// and not typed by hand. Stryker's score: (killed + timeout) / (all but ignored and
// compile errors). A file under 80% is in bold.
//
//   node scripts/mutation-table.mjs [report.json]
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(path, 'utf8'));

const rows = [];
const total = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
for (const [file, { mutants }] of Object.entries(report.files)) {
  const count = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const { status } of mutants) if (status in count) count[status]++;
  for (const key of Object.keys(total)) total[key] += count[key];
  rows.push([file.replace(/^.*?lib\//, ''), count]);
}

const score = (c) => (100 * (c.Killed + c.Timeout)) / (c.Killed + c.Timeout + c.Survived + c.NoCoverage);
const cell = (c) => (score(c) < 80 ? `**${score(c).toFixed(1)}%**` : `${score(c).toFixed(1)}%`);

console.log('| file | score | killed | survived | timeout | no coverage |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [file, c] of rows) {
  console.log(`| \`${file}\` | ${cell(c)} | ${c.Killed} | ${c.Survived} | ${c.Timeout} | ${c.NoCoverage} |`);
}
console.log(
  `| all ${rows.length} files | ${cell(total)} | ${total.Killed} | ${total.Survived} | ${total.Timeout} | ${total.NoCoverage} |`,
);
