// Builds dist/ for both module systems from the one source tree:
//   dist/esm  ESM, for `import` (Nest 12 apps, and Nest 11 apps that are ESM)
//   dist/cjs  CommonJS, for `require` (Nest 11 apps, Jest's default setup), and
//             the one set of type declarations, which both builds share
// The exports map in package.json points each condition at its build.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (project) => execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
run('tsconfig.build.json');
run('tsconfig.cjs.json');

// The root package.json says "type": "module"; this one makes Node (and
// TypeScript, for the declarations) read dist/cjs as CommonJS.
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');

// lib/internal/own-location.ts reads import.meta.url, which CommonJS cannot
// parse; this is the same module for CommonJS.
mkdirSync('dist/cjs/internal', { recursive: true });
writeFileSync(
  'dist/cjs/internal/own-location.js',
  `"use strict";
// Written by scripts/build.mjs: the CommonJS form of lib/internal/own-location.ts.
Object.defineProperty(exports, "__esModule", { value: true });
exports.ownRequire = exports.OWN_URL = void 0;
const node_module_1 = require("node:module");
const node_url_1 = require("node:url");
exports.OWN_URL = (0, node_url_1.pathToFileURL)(__filename).href;
exports.ownRequire = (0, node_module_1.createRequire)(__filename);
`,
);
rmSync('dist/cjs/internal/own-location.js.map', { force: true });
