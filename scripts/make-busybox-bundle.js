#!/usr/bin/env node
// Makes the busybox bundle from the host's static busybox (Debian's
// busybox-static): the binary, its applet links, /etc/passwd and friends.
//   bundles/busybox/busybox.tar  the image: one layer, deterministic (entries
//                                sorted, numeric owners 0:0, fixed mtimes), so
//                                its digest only changes with the busybox binary
//   bundles/busybox/rootfs/      the same tree as a directory (tests use it
//                                as root.path directly, without layers)
// bundles/busybox/config.json is part of the repository: "tsrun": {"layers": ["busybox.tar"]}.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const bundle = path.resolve(process.argv[2] || 'bundles/busybox');
const rootfs = path.join(bundle, 'rootfs');
const image = path.join(bundle, 'busybox.tar');
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
if (!busybox) {
  console.error('make-busybox-bundle: busybox not found (apt-get install busybox-static)');
  process.exit(1);
}
// statically linked = an ELF without a PT_INTERP (dynamic loader) program header
function isStatic(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF64
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}
if (!isStatic(busybox)) {
  console.error(`make-busybox-bundle: ${busybox} is not statically linked (apt-get install busybox-static)`);
  process.exit(1);
}
const VERSION = 2; // bump when the tree below changes
const stamp = path.join(bundle, '.rootfs-from');
const want = `${busybox} ${fs.statSync(busybox).mtimeMs} v${VERSION}`;
const upToDate = () =>
  fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want && fs.existsSync(path.join(rootfs, 'bin/busybox')) && fs.existsSync(image);
if (upToDate()) process.exit(0);

fs.rmSync(rootfs, { recursive: true, force: true });
fs.rmSync(stamp, { force: true });
const dirs = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var/tmp', 'home'];
for (const d of dirs) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
fs.copyFileSync(busybox, path.join(rootfs, 'bin/busybox'));
const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
for (const a of applets) {
  const p = path.join(rootfs, a);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  if (!fs.existsSync(p)) fs.symlinkSync('/bin/busybox', p);
}
const etc = (f, s) => fs.writeFileSync(path.join(rootfs, 'etc', f), s);
etc('passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
etc('group', 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
etc('hostname', 'busybox\n');
etc('hosts', '127.0.0.1 localhost\n');
etc('resolv.conf', '');
etc('nsswitch.conf', 'hosts: files\n');

// modes independent of the umask: dirs 0755 (tmp 1777), files 0644, busybox 0755
(function fix(d) {
  fs.chmodSync(d, 0o755);
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) fix(p);
    else if (e.isFile()) fs.chmodSync(p, 0o644);
  }
})(rootfs);
fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
fs.chmodSync(path.join(rootfs, 'var/tmp'), 0o1777);

// the image tar: GNU tar, deterministic; written next to it, then renamed
const tmp = `${image}.${process.pid}.tmp`;
try {
  execFileSync('tar', [
    '--sort=name', '--format=gnu', '--numeric-owner', '--owner=0', '--group=0',
    '--mtime=@946684800', '--no-acls', '--no-xattrs', '--no-selinux',
    '-C', rootfs, '-cf', tmp, '.',
  ], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, LC_ALL: 'C' } });
  fs.renameSync(tmp, image);
} catch (e) {
  fs.rmSync(tmp, { force: true });
  throw e;
}
fs.writeFileSync(stamp, want);
const digest = require('crypto').createHash('sha256').update(fs.readFileSync(image)).digest('hex');
console.log(`bundle: ${bundle} (busybox.tar sha256:${digest.slice(0, 12)}, rootfs from ${busybox}, ${applets.length} applets)`);
