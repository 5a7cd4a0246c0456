#!/usr/bin/env node
// Makes bundles/busybox/rootfs from the host's static busybox (Debian's
// busybox-static): the binary, its applet links, /etc/passwd and friends.
// bundles/busybox/config.json is part of the repository.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const bundle = path.resolve(process.argv[2] || 'bundles/busybox');
const rootfs = path.join(bundle, 'rootfs');
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
const stamp = path.join(bundle, '.rootfs-from');
const want = `${busybox} ${fs.statSync(busybox).mtimeMs}`;
if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want && fs.existsSync(path.join(rootfs, 'bin/busybox'))) process.exit(0);

fs.rmSync(rootfs, { recursive: true, force: true });
for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var/tmp', 'home']) {
  fs.mkdirSync(path.join(rootfs, d), { recursive: true });
}
fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
fs.chmodSync(path.join(rootfs, 'var/tmp'), 0o1777);
fs.copyFileSync(busybox, path.join(rootfs, 'bin/busybox'));
fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
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
fs.writeFileSync(stamp, want);
console.log(`bundle: ${bundle} (rootfs from ${busybox}, ${applets.length} applets)`);
