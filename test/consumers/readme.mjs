// The README's marked blocks: `<!-- consumer: <name> -->` on the line before a
// code fence. The consumer apps are built from these blocks as they are, so a
// README that is wrong fails the suite.
import { readFileSync } from 'node:fs';

export function readmeBlocks(readmePath) {
  const text = readFileSync(readmePath, 'utf8');
  const blocks = new Map();
  const marker = /<!-- consumer: (.+?) -->\r?\n```[a-z]*\r?\n([\s\S]*?)```/g;
  for (const [, name, body] of text.matchAll(marker)) blocks.set(name.trim(), body);
  return {
    get(name) {
      const body = blocks.get(name);
      if (body === undefined) throw new Error(`README.md has no block marked <!-- consumer: ${name} -->`);
      return body;
    },
  };
}

/** `npm install a b c` from a README block, as argv for npm, with the package swapped for the tarball. */
export function installArgs(block, tarball) {
  const lines = block.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
  if (lines.length !== 1) throw new Error(`an install block must be one command, got:\n${block}`);
  const words = lines[0].trim().split(/\s+/);
  if (words[0] !== 'npm' || words[1] !== 'install') throw new Error(`not an npm install line: ${lines[0]}`);
  const packages = words.slice(2);
  if (packages.some((word) => word.startsWith('-'))) throw new Error(`the install line takes no flags: ${lines[0]}`);
  if (!packages.includes('nestjs-jwt-revocation')) throw new Error(`the install line omits the package: ${lines[0]}`);
  return ['install', ...packages.map((name) => (name === 'nestjs-jwt-revocation' ? tarball : name))];
}
