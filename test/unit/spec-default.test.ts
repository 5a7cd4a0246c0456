import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { defaultSpec } from '../../src/spec/default';
import { bareRootless } from '../../src/cli/argv';
import { TOP } from '../helpers/tsrun';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(TOP, 'test/fixtures/producers', name), 'utf8'));

test('spec --rootless changes what runc spec --rootless changes (its fixture), for this uid and gid', () => {
  const runc = fixture('runc-spec-rootless.json');
  const ours = defaultSpec({ rootless: { uid: 0, gid: 0 } }); // the fixture was made by root
  assert.deepEqual(ours.linux!.uidMappings, runc.linux.uidMappings);
  assert.deepEqual(ours.linux!.gidMappings, runc.linux.gidMappings);
  const types = (s: { linux: { namespaces: { type: string }[] } }) => s.linux.namespaces.map((n) => n.type).sort();
  assert.deepEqual(types(ours as never), types(runc));
  assert.equal(ours.linux!.resources, undefined);
  const mount = (s: { mounts: { destination: string }[] }, d: string) => s.mounts.find((m) => m.destination === d);
  assert.deepEqual(mount(ours as never, '/sys'), mount(runc, '/sys'));
  assert.deepEqual(mount(ours as never, '/dev/pts'), mount(runc, '/dev/pts'));
  // another user: its own ids mapped
  assert.deepEqual(defaultSpec({ rootless: { uid: 1000, gid: 1001 } }).linux!.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
  // without it: runc spec's namespaces (and tsrun's cgroup namespace), no user namespace
  assert.ok(!defaultSpec().linux!.namespaces!.some((n) => n.type === 'user'));
});

test('a bare --rootless is --rootless=true (runc\'s spec --rootless switch); a value or a command after -- is left alone', () => {
  assert.deepEqual(bareRootless(['spec', '--rootless']), ['spec', '--rootless=true']);
  assert.deepEqual(bareRootless(['spec', '--rootless', '-b', 'x']), ['spec', '--rootless=true', '-b', 'x']);
  assert.deepEqual(bareRootless(['--rootless', 'false', 'list']), ['--rootless', 'false', 'list']);
  assert.deepEqual(bareRootless(['run', 'c1', '--', 'prog', '--rootless']), ['run', 'c1', '--', 'prog', '--rootless']);
});
