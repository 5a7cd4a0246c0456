import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../../src/errors';
import { defaultSpec } from '../../src/spec/default';
import {
  formatSchemaErrors,
  kernelAtLeast,
  loadSpec,
  parseVolume,
  validateProcessFile,
  validateResourcesFile,
  validateSpec,
} from '../../src/spec/validate';

const EXAMPLES = '/work/shared/clients/examples';
const CONFIGS = ['podman-config.json', 'podman-config-tty.json', 'containerd-config.json', 'containerd-config-tty.json'];

let tmp: string;
let bundle: string; // has a rootfs/ directory

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spec-test-'));
  bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A valid spec (the default one, no terminal) to break one piece at a time. */
function good(): any {
  return JSON.parse(JSON.stringify(defaultSpec({ terminal: false })));
}

/** The problem lines validateSpec reports (fails the test if it passes). */
function problems(spec: unknown, dir = bundle, opts?: { create?: boolean }): string[] {
  try {
    validateSpec(spec, dir, opts);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    for (const p of err.problems) assert.match(p, /^config\.json: \/\S*: /);
    assert.equal(err.message, err.problems.join('\n'));
    return err.problems;
  }
  assert.fail('validateSpec accepted the config');
}

function readExample(name: string): any {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'));
}

describe('valid configs', () => {
  for (const name of CONFIGS) {
    test(`${name} passes with an existing rootfs`, () => {
      const spec = readExample(name);
      spec.root.path = path.join(bundle, 'rootfs');
      assert.equal(validateSpec(spec, bundle), spec);
    });

    test(`${name} as is: only its missing root path is reported`, () => {
      const spec = readExample(name);
      const abs = path.resolve(tmp, spec.root.path);
      assert.deepEqual(problems(spec, tmp), [`config.json: /root/path: rootfs "${abs}" does not exist`]);
    });
  }

  test('relative root.path is resolved against the bundle', () => {
    const spec = good();
    assert.equal(spec.root.path, 'rootfs');
    assert.doesNotThrow(() => validateSpec(spec, bundle));
  });

  test('defaultSpec validates, and is what runc spec writes', () => {
    const spec = defaultSpec();
    assert.equal(validateSpec(spec, bundle), spec);
    assert.equal(spec.ociVersion, '1.2.0');
    assert.equal(spec.process?.terminal, true);
    assert.deepEqual(spec.process?.args, ['sh']);
    assert.deepEqual(spec.process?.capabilities?.bounding, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    assert.deepEqual(spec.root, { path: 'rootfs', readonly: true });
    assert.deepEqual(
      spec.linux?.namespaces?.map((n) => n.type),
      ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'],
    );
    assert.deepEqual(
      spec.mounts?.map((m) => m.destination),
      ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'],
    );
  });

  test('defaultSpec options', () => {
    const spec = defaultSpec({ args: ['echo', 'hi'], rootfs: '/abs/root', terminal: false });
    assert.deepEqual(spec.process?.args, ['echo', 'hi']);
    assert.equal(spec.root?.path, '/abs/root');
    assert.equal(spec.process?.terminal, false);
    // Without create, a missing rootfs is not a problem.
    assert.doesNotThrow(() => validateSpec(spec, tmp, { create: false }));
  });

  test('unknown top-level properties are ignored', () => {
    const spec = good();
    spec.vendorThing = { a: 1 };
    spec.process.somethingNew = true;
    assert.doesNotThrow(() => validateSpec(spec, bundle));
  });

  test('a full-featured config passes', () => {
    const spec = good();
    spec.linux.namespaces.push({ type: 'user' }, { type: 'time' });
    spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux.timeOffsets = { monotonic: { secs: 10, nanosecs: 0 }, boottime: { secs: -5 } };
    spec.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel/shmmax': '1000', 'fs.mqueue.msg_max': '10' };
    spec.linux.cgroupsPath = 'machine.slice:tsrun:abc';
    spec.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666 }];
    spec.linux.resources = {
      memory: { limit: 1 << 26, swap: -1 },
      cpu: { shares: 512, quota: -1, period: 100000, cpus: '0-1' },
      pids: { limit: -1 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      network: { classID: 1, priorities: [{ name: 'eth0', priority: 5 }] },
      rdma: { mlx5_1: { hcaHandles: 3 } },
      unified: { 'memory.high': '1000000' },
    };
    spec.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }],
    };
    spec.linux.personality = { domain: 'LINUX32' };
    spec.linux.rootfsPropagation = 'rslave';
    spec.hooks = { prestart: [{ path: '/bin/true', args: ['true'], timeout: 5 }] };
    spec.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
    spec.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
    spec.tsrun = { layers: ['/images/base.tar'], volumes: ['/data:/data', '/etc/hosts:/etc/hosts:ro', '/x:/y:rw'] };
    spec.annotations = { a: 'b' };
    assert.doesNotThrow(() => validateSpec(spec, bundle));
  });
});

describe('schema errors, one exact line each', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['wrong type', (s) => (s.process.args = 'sh'), 'config.json: /process/args: must be array'],
    ['missing required', (s) => delete s.process.cwd, 'config.json: /process/cwd: missing required property "cwd"'],
    ['missing ociVersion', (s) => delete s.ociVersion, 'config.json: /ociVersion: missing required property "ociVersion"'],
    [
      'enum lists allowed values',
      (s) => (s.linux.namespaces[0].type = 'pidd'),
      'config.json: /linux/namespaces/0/type: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time" (got "pidd")',
    ],
    [
      'unknown property inside tsrun',
      (s) => (s.tsrun = { layer: [] }),
      'config.json: /tsrun: unknown property "layer"',
    ],
    [
      'uint32 range',
      (s) => (s.process.user.uid = 4294967296),
      'config.json: /process/user/uid: must be <= 4294967295 (got 4294967296)',
    ],
    ['not an integer', (s) => (s.process.user.gid = 1.5), 'config.json: /process/user/gid: must be integer'],
    [
      'capability pattern',
      (s) => (s.process.capabilities.effective = ['chown']),
      'config.json: /process/capabilities/effective/0: must match pattern "^CAP_[A-Z_]+$" (got "chown")',
    ],
    [
      'seccomp action enum',
      (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'ALLOW' }] }),
      'config.json: /linux/seccomp/syscalls/0/action: must be one of "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY" (got "ALLOW")',
    ],
    [
      'seccomp operator enum',
      (s) =>
        (s.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'EQ' }] }],
        }),
      'config.json: /linux/seccomp/syscalls/0/args/0/op: must be one of "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" (got "EQ")',
    ],
    [
      'empty layer',
      (s) => (s.tsrun = { layers: ['/a.tar', ''] }),
      'config.json: /tsrun/layers/1: must not be empty',
    ],
    ['layer not a string', (s) => (s.tsrun = { layers: [3] }), 'config.json: /tsrun/layers/0: must be string'],
    ['annotations type', (s) => (s.annotations = []), 'config.json: /annotations: must be object or null'],
    [
      'unknown time offset clock',
      (s) => {
        s.linux.namespaces.push({ type: 'time' });
        s.linux.timeOffsets = { realtime: { secs: 1 } };
      },
      'config.json: /linux/timeOffsets: unknown property "realtime"',
    ],
    [
      'hugepage size',
      (s) => (s.linux.resources.hugepageLimits = [{ pageSize: '2M', limit: 1 }]),
      'config.json: /linux/resources/hugepageLimits/0/pageSize: must match pattern "^[1-9][0-9]*[KMG]B$" (got "2M")',
    ],
    [
      'pids limit required',
      (s) => (s.linux.resources.pids = {}),
      'config.json: /linux/resources/pids/limit: missing required property "limit"',
    ],
  ];
  for (const [name, mutate, expected] of cases) {
    test(name, () => {
      const spec = good();
      mutate(spec);
      assert.deepEqual(problems(spec), [expected]);
    });
  }

  test('a document that is not an object', () => {
    assert.deepEqual(problems([]), ['config.json: /: must be object']);
    assert.deepEqual(problems(null), ['config.json: /: must be object']);
  });

  test('anyOf/oneOf branch noise is merged', () => {
    // What ajv reports for {"oneOf": [{"$ref": "uint64"}, {"type": "null"}]} given a string.
    const lines = formatSchemaErrors(
      [
        { instancePath: '/x', schemaPath: '#/definitions/uint64/type', keyword: 'type', params: { type: 'integer' } },
        { instancePath: '/x', schemaPath: '#/oneOf/1/type', keyword: 'type', params: { type: 'null' } },
        { instancePath: '/x', schemaPath: '#/oneOf', keyword: 'oneOf', params: { passingSchemas: null } },
      ],
      { x: 'a' },
    );
    assert.deepEqual(lines, ['config.json: /x: must be integer or null']);
    // Given an integer out of range: the range problem, not the null branch.
    const lines2 = formatSchemaErrors(
      [
        { instancePath: '/x', schemaPath: '#/definitions/uint64/minimum', keyword: 'minimum', params: { comparison: '>=', limit: 0 } },
        { instancePath: '/x', schemaPath: '#/oneOf/1/type', keyword: 'type', params: { type: 'null' } },
        { instancePath: '/x', schemaPath: '#/oneOf', keyword: 'oneOf', params: { passingSchemas: null } },
      ],
      { x: -1 },
    );
    assert.deepEqual(lines2, ['config.json: /x: must be >= 0 (got -1)']);
  });
});

describe('semantic errors, one exact line each', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['ociVersion 2', (s) => (s.ociVersion = '2.0.0'), 'config.json: /ociVersion: unsupported ociVersion "2.0.0" (tsrun supports 1.x)'],
    ['no args', (s) => delete s.process.args, 'config.json: /process/args: missing required property "args"'],
    ['empty args', (s) => (s.process.args = []), 'config.json: /process/args: must not be empty'],
    ['relative cwd', (s) => (s.process.cwd = 'tmp'), 'config.json: /process/cwd: cwd "tmp" must be an absolute path'],
    ['no root', (s) => delete s.root, 'config.json: /root: missing required property "root"'],
    [
      'duplicate rlimit',
      (s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }),
      'config.json: /process/rlimits/1/type: duplicate rlimit "RLIMIT_NOFILE" (also at /process/rlimits/0)',
    ],
    [
      'relative mount destination',
      (s) => (s.mounts[0].destination = 'proc'),
      'config.json: /mounts/0/destination: mount destination "proc" must be absolute',
    ],
    [
      'relative hook path',
      (s) => (s.hooks = { poststop: [{ path: 'cleanup.sh' }] }),
      'config.json: /hooks/poststop/0/path: hook path "cleanup.sh" must be absolute',
    ],
    [
      'duplicate namespace',
      (s) => s.linux.namespaces.push({ type: 'ipc' }),
      'config.json: /linux/namespaces/6/type: duplicate namespace "ipc" (also at /linux/namespaces/2)',
    ],
    [
      'relative namespace path',
      (s) => (s.linux.namespaces[1] = { type: 'network', path: 'netns' }),
      'config.json: /linux/namespaces/1/path: namespace path "netns" must be absolute',
    ],
    [
      'mappings without a user namespace',
      (s) => {
        s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      },
      'config.json: /linux/uidMappings: uid mappings need a new user namespace (add {"type": "user"} to /linux/namespaces)',
    ],
    [
      'mappings with a joined user namespace',
      (s) => {
        s.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
        s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      },
      'config.json: /linux/gidMappings: gid mappings cannot be used with a user namespace joined by path ("/proc/1/ns/user")',
    ],
    [
      'hostname without uts namespace',
      (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts')),
      'config.json: /hostname: setting the hostname needs a uts namespace (add {"type": "uts"} to /linux/namespaces)',
    ],
    [
      'net sysctl without network namespace',
      (s) => {
        s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'network');
        s.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      },
      'config.json: /linux/sysctl/net.ipv4.ip_forward: sysctl "net.ipv4.ip_forward" needs a network namespace (it would change the host\'s)',
    ],
    [
      'net sysctl in the host network namespace joined by path',
      (s) => {
        s.linux.namespaces[1] = { type: 'network', path: '/proc/self/ns/net' };
        s.linux.sysctl = { 'net.core.somaxconn': '100' };
      },
      'config.json: /linux/sysctl/net.core.somaxconn: sysctl "net.core.somaxconn" would change the host\'s network namespace ("/proc/self/ns/net")',
    ],
    [
      'ipc sysctl (slash form) without ipc namespace',
      (s) => {
        s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'ipc');
        s.linux.sysctl = { 'kernel/shmmax': '1' };
      },
      'config.json: /linux/sysctl/kernel~1shmmax: sysctl "kernel.shmmax" needs a ipc namespace (it would change the host\'s)',
    ],
    [
      'mqueue sysctl without ipc namespace',
      (s) => {
        s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'ipc');
        s.linux.sysctl = { 'fs.mqueue.msg_max': '1' };
      },
      'config.json: /linux/sysctl/fs.mqueue.msg_max: sysctl "fs.mqueue.msg_max" needs a ipc namespace (it would change the host\'s)',
    ],
    [
      'uts sysctl without uts namespace',
      (s) => {
        s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts');
        delete s.hostname;
        s.linux.sysctl = { 'kernel.domainname': 'x' };
      },
      'config.json: /linux/sysctl/kernel.domainname: sysctl "kernel.domainname" needs a uts namespace (it would change the host\'s)',
    ],
    [
      'sysctl not namespaced',
      (s) => (s.linux.sysctl = { 'vm.swappiness': '10' }),
      'config.json: /linux/sysctl/vm.swappiness: sysctl "vm.swappiness" is not in a separate kernel namespace',
    ],
    [
      'cgroupsPath with two colons parts',
      (s) => (s.linux.cgroupsPath = 'system.slice:x'),
      'config.json: /linux/cgroupsPath: "system.slice:x" must be an absolute path, a relative path, or "slice:prefix:name"',
    ],
    [
      'cgroupsPath bad slice',
      (s) => (s.linux.cgroupsPath = 'system:tsrun:abc'),
      'config.json: /linux/cgroupsPath: "system:tsrun:abc": slice "system" must be a systemd slice name ending in ".slice"',
    ],
    [
      'cgroupsPath with ..',
      (s) => (s.linux.cgroupsPath = '/a/../../b'),
      'config.json: /linux/cgroupsPath: "/a/../../b" must not contain ".."',
    ],
    [
      'device outside /dev',
      (s) => (s.linux.devices = [{ type: 'c', path: '/tmp/null', major: 1, minor: 3 }]),
      'config.json: /linux/devices/0/path: device path "/tmp/null" must be an absolute path under /dev',
    ],
    [
      'device escaping /dev',
      (s) => (s.linux.devices = [{ type: 'p', path: '/dev/../etc/fifo' }]),
      'config.json: /linux/devices/0/path: device path "/dev/../etc/fifo" must be an absolute path under /dev',
    ],
    [
      'timeOffsets without time namespace',
      (s) => (s.linux.timeOffsets = { monotonic: { secs: 1 } }),
      'config.json: /linux/timeOffsets: time offsets need a new time namespace (add {"type": "time"} to /linux/namespaces)',
    ],
    [
      'ioPriority range',
      (s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }),
      'config.json: /process/ioPriority/priority: must be between 0 and 7 (got 8)',
    ],
    [
      'seccomp notify needs a listener',
      (s) =>
        (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }] }),
      'config.json: /linux/seccomp/listenerPath: is required when a syscall uses SCMP_ACT_NOTIFY',
    ],
    [
      'volume "a:"',
      (s) => (s.tsrun = { volumes: ['/a:/b', 'a:'] }),
      'config.json: /tsrun/volumes/1: volume "a:": empty container path',
    ],
    [
      'tsrun.volatile without layers',
      (s) => (s.tsrun = { volatile: true }),
      'config.json: /tsrun/volatile: a volatile write layer needs tsrun.layers',
    ],
    [
      'tsrun.volatile not a boolean',
      (s) => (s.tsrun = { layers: ['/i.tar'], volatile: 'yes' }),
      'config.json: /tsrun/volatile: must be boolean',
    ],
  ];
  for (const [name, mutate, expected] of cases) {
    test(name, () => {
      const spec = good();
      mutate(spec);
      assert.deepEqual(problems(spec), [expected]);
    });
  }

  test('a new user namespace needs both mappings', () => {
    const spec = good();
    spec.linux.namespaces.push({ type: 'user' });
    assert.deepEqual(problems(spec), [
      'config.json: /linux/uidMappings: a new user namespace needs uid mappings',
      'config.json: /linux/gidMappings: a new user namespace needs gid mappings',
    ]);
  });

  test('root.path that does not exist, or is a file', () => {
    const spec = good();
    spec.root.path = 'nope';
    assert.deepEqual(problems(spec), [`config.json: /root/path: rootfs "${path.join(bundle, 'nope')}" does not exist`]);
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, '');
    spec.root.path = file;
    assert.deepEqual(problems(spec), [`config.json: /root/path: rootfs "${file}" is not a directory`]);
  });

  test('with tsrun.layers, root.path may be missing (the merged root is shown there)', () => {
    const spec = good();
    spec.root.path = 'merged';
    spec.tsrun = { layers: ['/images/busybox.tar'] };
    assert.doesNotThrow(() => validateSpec(spec, bundle));
    // ... but not something that is not a directory.
    const file = path.join(tmp, 'merged-file');
    fs.writeFileSync(file, '');
    spec.root.path = file;
    assert.deepEqual(problems(spec), [`config.json: /root/path: rootfs "${file}" is not a directory`]);
  });

  test('no process is a valid config (create makes the container, start refuses it)', () => {
    const spec = good();
    delete spec.process;
    spec.root.path = tmp;
    assert.doesNotThrow(() => validateSpec(spec, tmp));
  });

  test('create: false skips process/root presence', () => {
    const spec = good();
    delete spec.process;
    delete spec.root;
    assert.doesNotThrow(() => validateSpec(spec, tmp, { create: false }));
  });
});

test('several problems are reported at once, schema and semantic', () => {
  const spec = good();
  spec.process.args = [];
  spec.process.cwd = 'x';
  spec.process.user.uid = -1;
  spec.mounts[2].destination = 'dev/pts';
  spec.linux.namespaces.push({ type: 'bogus' });
  spec.tsrun = { volumes: ['data:/data', '/a:/b:rx'], extra: true };
  spec.root.path = 'missing';
  assert.deepEqual(problems(spec), [
    'config.json: /process/user/uid: must be >= 0 (got -1)',
    'config.json: /linux/namespaces/6/type: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time" (got "bogus")',
    'config.json: /tsrun: unknown property "extra"',
    'config.json: /process/args: must not be empty',
    'config.json: /process/cwd: cwd "x" must be an absolute path',
    `config.json: /root/path: rootfs "${path.join(bundle, 'missing')}" does not exist`,
    'config.json: /mounts/2/destination: mount destination "dev/pts" must be absolute',
    'config.json: /tsrun/volumes/0: volume "data:/data": host path "data" must be absolute',
    'config.json: /tsrun/volumes/1: volume "/a:/b:rx": unknown option "rx" (expected ro or rw)',
  ]);
});

describe('parseVolume', () => {
  test('valid forms', () => {
    assert.deepEqual(parseVolume('/data:/srv'), { source: '/data', destination: '/srv', readonly: false });
    assert.deepEqual(parseVolume('/data:/srv:ro'), { source: '/data', destination: '/srv', readonly: true });
    assert.deepEqual(parseVolume('/data:/srv:rw'), { source: '/data', destination: '/srv', readonly: false });
    assert.deepEqual(parseVolume('/a/b/../c/:/srv//x/'), { source: '/a/c/', destination: '/srv/x/', readonly: false });
  });
  const bad: Array<[string, string]> = [
    ['a', 'expected HOST:CONTAINER[:ro|:rw]'],
    ['', 'expected HOST:CONTAINER[:ro|:rw]'],
    [':b', 'empty host path'],
    ['a:', 'empty container path'],
    ['rel:/x', 'host path "rel" must be absolute'],
    ['/x:rel', 'container path "rel" must be absolute'],
    ['/x:/y:nosuid', 'unknown option "nosuid" (expected ro or rw)'],
    ['/x:/y:ro:z', 'expected HOST:CONTAINER[:ro|:rw]'],
  ];
  for (const [input, reason] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseVolume(input), { reason, message: `tsrun.volumes: ${JSON.stringify(input)}: ${reason}` });
    });
  }
});

describe('loadSpec', () => {
  test('reads and validates <bundle>/config.json', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'load-'));
    fs.mkdirSync(path.join(dir, 'rootfs'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(defaultSpec()));
    const { spec, configPath } = loadSpec(dir);
    assert.equal(configPath, path.join(dir, 'config.json'));
    assert.deepEqual(spec, defaultSpec());
  });

  test('missing config.json', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'load-'));
    assert.throws(() => loadSpec(dir), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [`${dir}/config.json: no such file or directory (give the bundle with --bundle DIR; "tsrun spec" writes a config.json)`]);
      return true;
    });
  });

  test('invalid JSON names the line and column', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'load-'));
    fs.writeFileSync(path.join(dir, 'config.json'), '{\n  "ociVersion": "1.2.0",\n  oops\n}\n');
    assert.throws(() => loadSpec(dir), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 1);
      assert.match(err.problems[0], /^config\.json: invalid JSON: .+ at line 3, column 3$/);
      return true;
    });
    fs.writeFileSync(path.join(dir, 'config.json'), '');
    assert.throws(() => loadSpec(dir), { message: 'config.json: invalid JSON: Unexpected end of JSON input' });
  });

  test('schema problems come through loadSpec', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'load-'));
    fs.mkdirSync(path.join(dir, 'rootfs'));
    const spec: any = defaultSpec();
    spec.process.args = 'sh';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    assert.throws(() => loadSpec(dir), { message: 'config.json: /process/args: must be array' });
  });
});

describe('exec --process and update --resources files', () => {
  for (const name of ['podman-exec-process.json', 'containerd-exec-process.json']) {
    test(`${name} passes`, () => {
      const proc = readExample(name);
      assert.equal(validateProcessFile(proc, name), proc);
    });
  }

  test('process file problems are named after the file, with pointers from its root', () => {
    const proc = readExample('podman-exec-process.json');
    proc.cwd = 'tmp';
    proc.args = [];
    proc.user.uid = 'root';
    assert.throws(() => validateProcessFile(proc, '/run/p.json'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        '/run/p.json: /user/uid: must be integer',
        '/run/p.json: /args: must not be empty',
        '/run/p.json: /cwd: cwd "tmp" must be an absolute path',
      ]);
      return true;
    });
  });

  test('resources file', () => {
    const res = readExample('podman-update-resources.json');
    assert.equal(validateResourcesFile(res, 'r.json'), res);
    assert.throws(() => validateResourcesFile({ memory: { limit: '64m' }, pids: {} }, 'r.json'), {
      message: 'r.json: /memory/limit: must be integer\nr.json: /pids/limit: missing required property "limit"',
    });
  });
});

test('kernelAtLeast: major.minor of os.release() forms', () => {
  assert.ok(kernelAtLeast(5, 10, '6.18.44-fc-v669'));
  assert.ok(kernelAtLeast(5, 10, '5.10.0-28-amd64'));
  assert.ok(!kernelAtLeast(5, 10, '5.4.0-150-generic'));
  assert.ok(!kernelAtLeast(5, 10, '4.19.0'));
  assert.ok(kernelAtLeast(5, 10, 'weird'), 'an unknown form is left to the mount');
});
