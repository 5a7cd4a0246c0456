import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinStdinValues, splitCommand } from '../../src/cli/argv';

test('joinStdinValues: "--resources -" and "-p -" become "--resources=-" and "-p=-" (containerd passes stdin so)', () => {
  assert.deepEqual(joinStdinValues(['--root', '/r', 'update', '--resources', '-', 'c1']), ['--root', '/r', 'update', '--resources=-', 'c1']);
  assert.deepEqual(joinStdinValues(['exec', '-p', '-', 'c1']), ['exec', '-p=-', 'c1']);
  assert.deepEqual(joinStdinValues(['update', '--resources=-', 'c1']), ['update', '--resources=-', 'c1']);
});

test('joinStdinValues: the command after the id is left alone', () => {
  const argv = splitCommand(['exec', 'c1', 'cat', '-n', '-']);
  assert.deepEqual(argv, ['exec', 'c1', '--', 'cat', '-n', '-']);
  assert.deepEqual(joinStdinValues(argv), argv);
});

// src/cli/argv.ts keeps its own list of the flags of run/create/exec that take
// a value (to find where the id ends).  It must match the yargs builders.
import { commands as allCommands } from '../../src/cli/commands';
import { VALUE_FLAGS as valueFlags } from '../../src/cli/argv';

/** The options a command's builder declares, recorded through a stand-in for yargs. */
function declaredOptions(verb: string): Array<{ names: string[]; takesValue: boolean }> {
  const cmd = allCommands.find((c) => String(c.command).split(' ')[0] === verb);
  assert.ok(cmd && typeof cmd.builder === 'function', `${verb} has a builder`);
  const out: Array<{ names: string[]; takesValue: boolean }> = [];
  const y: unknown = new Proxy(
    {},
    {
      get: (_t, prop) =>
        (...args: unknown[]) => {
          const record = (name: string, o: { alias?: string | string[]; type?: string }) => {
            const names = [name, ...[o.alias ?? []].flat()].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
            out.push({ names, takesValue: o.type !== 'boolean' });
          };
          if (prop === 'option' && typeof args[0] === 'string') record(args[0], (args[1] ?? {}) as object);
          if (prop === 'options' && args[0] && typeof args[0] === 'object') {
            for (const [name, o] of Object.entries(args[0] as Record<string, object>)) record(name, o);
          }
          return y;
        },
    },
  );
  (cmd.builder as (y: unknown) => unknown)(y);
  return out;
}

for (const verb of Object.keys(valueFlags)) {
  test(`argv.ts VALUE_FLAGS.${verb} lists exactly the ${verb} options that take a value`, () => {
    const opts = declaredOptions(verb);
    const declared = new Set(opts.filter((o) => o.takesValue).flatMap((o) => o.names));
    assert.ok(declared.size > 3, 'the builder was read');
    assert.deepEqual([...valueFlags[verb]].sort(), [...declared].sort());
  });
}
