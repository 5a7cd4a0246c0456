#!/usr/bin/env node
// Builds the TypeScript side:
//   1. scripts/gen-validators.js compiles schema/*.json with ajv into standalone
//      validation code (src/spec/generated/), so no schema is compiled at run time;
//   2. esbuild bundles the CLI into dist/tsrun.js (one file, koffi left external
//      because it ships a native binary);
//   3. esbuild bundles every test/**/*.test.ts into build/test/ for `node --test`.
// Type checking is `tsc --noEmit` (the Makefile runs it).
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const top = path.resolve(__dirname, '..');
process.chdir(top);

const gen = path.join(top, 'scripts', 'gen-validators.js');
if (fs.existsSync(gen)) require(gen).generate();

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  sourcemap: false,
  logLevel: 'warning',
  legalComments: 'none',
};

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findTests(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

async function main() {
  fs.mkdirSync('dist', { recursive: true });
  await esbuild.build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/tsrun.js',
    banner: { js: '#!/usr/bin/env node' },
    minifySyntax: true,
  });
  fs.chmodSync('dist/tsrun.js', 0o755);

  const tests = [...findTests('test'), ...(fs.existsSync('test/helpers') ? [] : [])];
  if (tests.length) {
    fs.rmSync('build/test', { recursive: true, force: true });
    await esbuild.build({
      ...common,
      entryPoints: tests,
      outdir: 'build/test',
      outbase: 'test',
      // the tests load their dependencies from node_modules, as the CLI bundle does not
      packages: 'external',
    });
  }
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
