// The C front (native-shim/front/front.c) parses the few flags of the command
// lines it takes by itself; yargs and src/cli/fast.ts read src/cli/options.ts.
// This checks that every spelling the front takes is one options.ts declares,
// for the same option and kind, so the three parsers cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { CREATE_OPTIONS, GLOBAL_OPTIONS, RUN_OPTIONS, spellingMap } from '../../src/cli/options';
import { TOP } from '../helpers/tsrun';

const front = fs.readFileSync(path.join(TOP, 'native-shim/front/front.c'), 'utf8');
// every flag spelling the front compares against: "--name" or "-x" string literals
const taken = [...new Set([...front.matchAll(/"(--?[a-z][-a-z]*)"/g)].map((m) => m[1]))].sort();

test('every flag the C front takes is declared in src/cli/options.ts, with the kind the front gives it', () => {
  assert.ok(taken.length >= 8, `flags found in front.c: ${taken.join(' ')}`);
  const values = { ...spellingMap(GLOBAL_OPTIONS, 'string'), ...spellingMap(CREATE_OPTIONS, 'string') };
  const switches: Record<string, string> = {
    ...spellingMap(RUN_OPTIONS, 'boolean', ['detach']),
    // delete's --force and kill's --all are declared with their verbs (src/cli/commands/)
    '--force': 'force',
    '-f': 'force',
    '--all': 'all',
    '-a': 'all',
  };
  const verbSrc = (v: string) => fs.readFileSync(path.join(TOP, `src/cli/commands/${v}.ts`), 'utf8');
  assert.match(verbSrc('delete'), /option\('force', \{ alias: 'f', type: 'boolean'/, 'delete declares --force/-f as a boolean');
  assert.match(verbSrc('kill'), /option\('all', \{ alias: 'a', type: 'boolean'/, 'kill declares --all/-a as a boolean');
  for (const f of taken) {
    assert.ok(f in values || f in switches, `front.c takes ${f}, which src/cli/options.ts does not declare`);
  }
  // the value flags the front reads take a value in options.ts too (and the switches none)
  for (const f of ['--root', '--data-dir', '--log', '--log-format', '--bundle', '-b', '--pid-file']) {
    assert.ok(taken.includes(f), `front.c reads ${f}`);
    assert.ok(f in values, `${f} takes a value in options.ts`);
  }
  for (const f of ['--detach', '-d']) assert.equal(switches[f], 'detach');
});
