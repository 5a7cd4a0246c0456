#!/bin/bash
# make bench: tsrun against runc and crun, side by side in one run, on the
# same busybox bundle running `true` (issue 6).  Prints one table: the median
# per runtime and tsrun/runc, plus the memory figures.  A script, not a test.
#   BENCH_RUNS=15 (runs per timed scenario), BENCH_SEQ=100, BENCH_PAR=20
#   BENCH_IMAGE_ONLY=1: only the image-layer rows (section 6)
#   BENCH_UNPACK_ROUNDS=6: rounds of the first-unpack comparison with tar -x
# crun refuses hybrid cgroups: its scenarios run in a private mount namespace
# with a plain cgroup2 mount on /sys/fs/cgroup (this script re-runs itself
# there with --inner crun).
set -euo pipefail
unset NODE_EXTRA_CA_CERTS # adds ~70 ms to every node start
top=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-15}
SEQ=${BENCH_SEQ:-100}
PAR=${BENCH_PAR:-20}

# ---- one runtime's scenarios (called for tsrun, runc, and crun in its namespace)
scenarios() {
  local rt=$1 cmd=$2 w=$3
  local root=$w/root-$rt out=$w/out
  mkdir -p "$root"
  local hf=(hyperfine -N --style none)
  # 1. run
  "${hf[@]}" -w 2 -r "$RUNS" --export-json "$out/$rt.run.json" "$cmd --root $root run --bundle $w/b/r1 r1" >/dev/null
  # 2. create + start + wait + delete (bash runs the four calls, for every runtime alike)
  "${hf[@]}" -w 2 -r "$RUNS" --export-json "$out/$rt.cycle.json" "bash $top/scripts/bench-cycle.sh '$cmd' $root $w/b/c1 c1" >/dev/null
  # 3. SEQ sequential runs; SEQ runs PAR at a time
  "${hf[@]}" -r 3 --export-json "$out/$rt.seq.json" \
    "bash -c 'for i in \$(seq $SEQ); do $cmd --root $root run --bundle $w/b/s\$i s\$i; done'" >/dev/null
  "${hf[@]}" -r 3 --export-json "$out/$rt.par.json" \
    "bash -c 'seq $SEQ | xargs -P $PAR -I{} $cmd --root $root run --bundle $w/b/p{} p{}'" >/dev/null
  # 4. fixed cost of one call: state of a created container
  $cmd --root "$root" create --bundle "$w/b/st1" st1
  "${hf[@]}" -w 2 -r $((RUNS * 2)) --export-json "$out/$rt.state.json" "$cmd --root $root state st1" >/dev/null
  # 5. memory: every process of the created container on the host (RSS and PSS)
  local pid
  pid=$($cmd --root "$root" state st1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
  local pids="$pid $(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')"
  local rss=0 pss=0 p
  for p in $pids; do
    rss=$((rss + $(awk '/^Rss:/ {print $2}' /proc/$p/smaps_rollup)))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)))
  done
  echo "$rss $pss $(echo $pids | wc -w)" >"$out/$rt.mem"
  $cmd --root "$root" delete --force st1 >/dev/null 2>&1 || true
  # 5b. a 512 KiB memory limit, running true
  if $cmd --root "$root" run --bundle "$w/b/m1" m1 >"$out/$rt.small.log" 2>&1; then echo ok >"$out/$rt.small"; else echo "fails (exit $?)" >"$out/$rt.small"; fi
  $cmd --root "$root" delete --force m1 >/dev/null 2>&1 || true
}

if [ "${1:-}" = --inner ] || [ "${1:-}" = --inner-v2run ]; then
  # in the private mount namespace: a plain cgroup2 hierarchy (crun refuses
  # hybrid ones; for the others, what most hosts have)
  mount --make-rprivate /
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
  if [ "$1" = --inner ]; then
    scenarios "$2" "$3" "$4"
  else
    hyperfine -N --style none -w 2 -r "$RUNS" --export-json "$4/out/$2.v2run.json" "$3 --root $4/root-v2-$2 run --bundle $4/b/r1 r1" >/dev/null
  fi
  exit 0
fi

# ---- set up --------------------------------------------------------------------
missing=$(for p in hyperfine runc crun; do command -v $p >/dev/null || echo $p; done)
if [ -n "$missing" ]; then
  echo "bench: installing $missing" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
make -s -C "$top/native-shim" >/dev/null
(cd "$top" && node scripts/build.js)
[ -x "$top/bundles/busybox/rootfs/bin/busybox" ] || node "$top/scripts/make-busybox-bundle.js" "$top/bundles/busybox" >/dev/null

w=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
cleanup() {
  for r in tsrun tsrun-node img runc tsrun-cfg runc-cfg; do
    for id in $(ls "$w/root-$r" 2>/dev/null); do
      case $r in tsrun* | img) "$top/bin/tsrun" --root "$w/root-$r" --data-dir "$w/data-img" delete --force "$id" ;; runc*) runc --root "$w/root-$r" delete --force "$id" ;; esac >/dev/null 2>&1 || true
    done
  done
  umount -l "$w"/data-*/* 2>/dev/null || true
  # what a runtime left (crun keeps the cgroup of its failed 512 KiB run), then the parents
  rmdir /sys/fs/cgroup/*/tsrun-bench/* /sys/fs/cgroup/*/tsrun-bench 2>/dev/null || true
  rm -rf "$w"
}
trap cleanup EXIT
[ -n "${BENCH_DEBUG:-}" ] && set -x
mkdir -p "$w/out"
rootfs=$top/bundles/busybox/rootfs
mkbundle() { # dir, jq-less edit of the busybox config with python
  mkdir -p "$1"
  python3 - "$top/bundles/busybox/config.json" "$1/config.json" "$rootfs" "$2" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
spec['root']['path'] = sys.argv[3]
spec.pop('tsrun', None)  # bundles/busybox is layered; the bench bundles are plain unless asked
spec['process']['args'] = ['true']
spec['ociVersion'] = '1.0.2'  # crun 1.8 refuses 1.2.0
if sys.argv[4].startswith('layers:') or sys.argv[4].startswith('volatile:'):
    kind, layer = sys.argv[4].split(':', 1)
    spec['root']['path'] = 'rootfs'
    spec['tsrun'] = {'layers': layer.split(',')}  # bottom first
    if kind == 'volatile': spec['tsrun']['volatile'] = True
json.dump(spec, open(sys.argv[2], 'w'), indent=1)
EOF
}
mkbundle "$w/true" plain
# one bundle per container id, each with its own cgroupsPath under /tsrun-bench:
# without one, runc nests the v1 memory cgroup under its caller's own
# (/sys/fs/cgroup/memory/process_api/... on this VM, which nothing may touch)
python3 - "$w/true/config.json" "$w/b" "$SEQ" <<'EOF2'
import json, os, sys
spec, out, n = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
ids = ['r1', 'c1', 'st1', 'm1'] + ['s%d' % i for i in range(1, n + 1)] + ['p%d' % i for i in range(1, n + 1)]
for i in ids:
    spec['linux']['cgroupsPath'] = '/tsrun-bench/' + i
    res = spec['linux'].setdefault('resources', {})
    if i == 'm1': res['memory'] = {'limit': 512 * 1024}
    else: res.pop('memory', None)
    os.makedirs(os.path.join(out, i))
    json.dump(spec, open(os.path.join(out, i, 'config.json'), 'w'), indent=1)
EOF2

echo "bench: tsrun, runc, crun; $RUNS runs per scenario, $SEQ containers sequential and $PAR at a time" >&2
# (first: the scenarios below churn ext4 inodes under /tmp, and ext4 then
#  makes every file creation slow for a while, tar -x and unpack alike)
sync
# 6. image layers: a second container from an unpacked image vs a plain rootfs;
#    the first unpack (fresh data dir) vs tar -x of the same file
tar -C "$rootfs" -cf "$w/busybox.tar" .
# a bigger layer: the busybox rootfs plus /usr/include/linux (~1000 small files)
tar -cf "$w/big.tar" -C "$rootfs" . -C /usr/include linux
mkbundle "$w/img" "layers:$w/busybox.tar"
mkbundle "$w/imgv" "volatile:$w/busybox.tar"
mkbundle "$w/bigimg" "volatile:$w/big.tar"
# a big layer: 1500 files of 100 kB (15 dirs of 100) and one of 50 MiB, 194
# MiB; seeded random bytes (incompressible) and fixed metadata, so every run
# makes the same file
python3 - "$w/huge.tar" <<'EOF7'
import io, random, sys, tarfile
r = random.Random(17)
def info(name, kind, size=0):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.mtime, t.uid, t.gid, t.uname, t.gname = kind, size, 1700000000, 0, 0, '', ''
    t.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return t
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as tf:
    tf.addfile(info('data', tarfile.DIRTYPE))
    for d in range(15):
        tf.addfile(info('data/d%02d' % d, tarfile.DIRTYPE))
        for f in range(100):
            tf.addfile(info('data/d%02d/f%03d' % (d, f), tarfile.REGTYPE, 100000), io.BytesIO(r.randbytes(100000)))
    tf.addfile(info('data/big', tarfile.REGTYPE, 50 << 20), io.BytesIO(r.randbytes(50 << 20)))
EOF7
mkbundle "$w/hugeimg" "volatile:$w/busybox.tar,$w/huge.tar" # on busybox: the container runs `true`
sync # its 194 MiB of dirty pages would otherwise be written during the runs below
ts=$top/bin/tsrun
$ts --root "$w/root-img" --data-dir "$w/data-img" run --bundle "$w/img" warm >/dev/null
hf=(hyperfine -N --style none)
# Replayed, interleaved (one of each per round; 3 x RUNS rounds, the first
# dropped): `run` from the unpacked image, the same with a volatile write
# layer, and on a plain rootfs; and create+start alone (the container is
# running), the image against the plain rootfs: the write layer's teardown
# (the umount's sync of the host file system, removing the tree) comes after.
python3 - "$ts" "$w" "$RUNS" <<'EOF5'
import json, os, statistics, subprocess, sys, time
ts, w, n = sys.argv[1], sys.argv[2], 3 * int(sys.argv[3]) + 1
base = [ts, '--root', w + '/root-img', '--data-dir', w + '/data-img']
def call(args, out=None):
    subprocess.run(base + args, check=True, stdout=out or subprocess.DEVNULL)
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
def create_start(b, id):
    call(['create', '--bundle', b, id]); call(['start', id])
def wait_delete(id):
    while b'"stopped"' not in subprocess.run(base + ['state', id], capture_output=True).stdout: time.sleep(0.001)
    call(['delete', id])
out = {k: [] for k in ('warm', 'volatile', 'plain', 'cs-img', 'cs-plain')}
for i in range(n):
    r = {'warm': timed(lambda: call(['run', '--bundle', w + '/img', 'i1'])),
         'volatile': timed(lambda: call(['run', '--bundle', w + '/imgv', 'i3'])),
         'plain': timed(lambda: call(['run', '--bundle', w + '/true', 'i2']))}
    for k, b in (('cs-img', '/img'), ('cs-plain', '/true')):
        r[k] = timed(lambda: create_start(w + b, 'c' + k)); wait_delete('c' + k)
    if i:
        for k, v in r.items(): out[k].append(v)
for k, v in out.items():
    json.dump({'results': [{'median': statistics.median(v), 'times': v}]}, open('%s/out/img.%s.json' % (w, k), 'w'))
EOF5
# The first unpack: (first run - warm run), both through Node (a replayed warm
# run would add Node's start-up and create to the unpack), against tar -x of
# the same file.  Interleaved, one of each per round: file creation on this
# VM's ext4 drifts by several times within a minute, so separate series of
# each would compare different disks.  Each round extracts into new dirs,
# all removed at the end: this VM's ext4 has no journal, and then inode
# allocation skips inodes freed in the last ~30 s by scanning past them
# (recently_deleted), so a tree made right after removing one costs what the
# removal left, not what the extractor does.  The bundles' write layers are
# volatile and every timed step starts after a sync: the container's umount
# would otherwise write back all dirty data of the file system (the layer
# just unpacked, tar's last tree), which tar -x does not wait for.
python3 - "$ts" "$w" "${BENCH_UNPACK_ROUNDS:-6}" <<'EOF3'
import json, os, shutil, statistics, subprocess, sys, time
ts, w, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = dict(os.environ, TSRUN_NO_REPLAY='1')
def timed(cmd):
    subprocess.run(['sync'], check=True)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t
out = {}
for i in range(rounds):
    for name in ('big', 'huge'):
        data = '%s/unpack/%s-%d/data' % (w, name, i)
        base = [ts, '--root', w + '/root-img', '--data-dir', data, 'run', '--bundle', '%s/%simg' % (w, name)]
        if name == 'huge':  # its busybox layer first, untimed: the first run unpacks only huge.tar
            subprocess.run(base[:-1] + [w + '/imgv', 'b0'], env=env, check=True, stdout=subprocess.DEVNULL)
        out.setdefault(name + '.first', []).append(timed(base + ['b1']))
        out.setdefault(name + '.warm', []).append(timed(base + ['b2']))
        x = '%s/unpack/%s-%d/x' % (w, name, i)
        os.makedirs(x)
        out.setdefault(name + '.tar', []).append(timed(['tar', '-xf', '%s/%s.tar' % (w, name), '-C', x]))
shutil.rmtree(w + '/unpack')
for k, v in out.items():
    json.dump({'results': [{'median': statistics.median(v), 'times': v}]}, open('%s/out/img.%s.json' % (w, k), 'w'))
EOF3

if [ -z "${BENCH_IMAGE_ONLY:-}" ]; then
# 7. a new container of a known image, as containerd makes them: a new
#    64-hex id and a new bundle each time, whose config.json differs from the
#    last one by the id (cgroupsPath).  Interleaved per round, one run each of
#    tsrun, tsrun through Node, runc; the first round (tsrun records) is dropped.
python3 - "$top/bin/tsrun" "$w" "$RUNS" <<'EOF4'
import json, os, secrets, statistics, subprocess, sys, time
ts, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) + 1
spec = json.load(open(w + '/true/config.json'))
cmds = {'tsrun': [ts, '--root', w + '/root-tsrun'], 'tsrun-node': [ts, '--root', w + '/root-tsrun-node'], 'runc': ['runc', '--root', w + '/root-runc']}
out = {k: [] for k in cmds}
for i in range(n):
    for k, c in cmds.items():
        id = secrets.token_hex(32)
        b = '%s/hx/%s' % (w, id)
        os.makedirs(b)
        spec['linux']['cgroupsPath'] = '/tsrun-bench/' + id
        json.dump(spec, open(b + '/config.json', 'w'), indent=1)
        env = dict(os.environ, TSRUN_NO_REPLAY='1') if k == 'tsrun-node' else os.environ
        t = time.perf_counter()
        subprocess.run(c + ['run', '--bundle', b, id], env=env, check=True, stdout=subprocess.DEVNULL)
        if i: out[k].append(time.perf_counter() - t)
for k, v in out.items():
    json.dump({'results': [{'median': statistics.median(v), 'times': v}]}, open('%s/out/%s.newid.json' % (w, k), 'w'))
EOF4

# 8. what podman and containerd's CRI make: a new config.json per container
#    (new 64-hex id, hostname, annotation and cgroupsPath each time: no replay
#    record can serve it), `run` and create/start/state-until-stopped/delete;
#    and `exec ID true` into a running container (CRI ExecSync, podman exec,
#    health checks).  Interleaved per round, tsrun then runc; the first round dropped.
python3 - "$top/bin/tsrun" "$w" "$RUNS" <<'EOF6'
import json, os, secrets, statistics, subprocess, sys, time
ts, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) + 1
spec = json.load(open(w + '/true/config.json'))
cmds = {'tsrun': [ts, '--root', w + '/root-tsrun-cfg'], 'runc': ['runc', '--root', w + '/root-runc-cfg']}
def fresh(k):
    id = secrets.token_hex(32)
    b = '%s/cfg/%s' % (w, id)
    os.makedirs(b)
    spec['linux']['cgroupsPath'] = '/tsrun-bench/' + id
    spec['hostname'] = id[:12]
    spec['annotations'] = {'io.podman.annotations.seq': id}
    json.dump(spec, open(b + '/config.json', 'w'), indent=1)
    return id, b
def call(c, args):
    subprocess.run(c + args, check=True, stdout=subprocess.DEVNULL)
out = {'%s.%s' % (k, s): [] for k in cmds for s in ('cfgrun', 'cfgcycle', 'exec')}
# one running container per runtime to exec into
sleeper = dict(spec, process=dict(spec['process'], args=['sleep', '100000']))
for k, c in cmds.items():
    b = w + '/cfg/ex-' + k
    os.makedirs(b)
    sleeper['linux'] = dict(spec['linux'], cgroupsPath='/tsrun-bench/ex-' + k)
    json.dump(sleeper, open(b + '/config.json', 'w'), indent=1)
    subprocess.run(c + ['run', '-d', '--bundle', b, 'ex-' + k], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
for i in range(n):
    for k, c in cmds.items():
        id, b = fresh(k)
        t = time.perf_counter(); call(c, ['run', '--bundle', b, id]); run = time.perf_counter() - t
        id, b = fresh(k)
        t = time.perf_counter()
        call(c, ['create', '--bundle', b, id]); call(c, ['start', id])
        while b'"stopped"' not in subprocess.run(c + ['state', id], capture_output=True).stdout: time.sleep(0.001)
        call(c, ['delete', id])
        cycle = time.perf_counter() - t
        t = time.perf_counter(); call(c, ['exec', 'ex-' + k, 'true']); ex = time.perf_counter() - t
        if i:
            out[k + '.cfgrun'].append(run); out[k + '.cfgcycle'].append(cycle); out[k + '.exec'].append(ex)
for k, c in cmds.items():
    subprocess.run(c + ['delete', '--force', 'ex-' + k], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for k, v in out.items():
    json.dump({'results': [{'median': statistics.median(v), 'times': v}]}, open('%s/out/%s.json' % (w, k), 'w'))
EOF6

scenarios tsrun "$top/bin/tsrun" "$w"
# the same without replay records: what a create costs the first time tsrun
# sees a container (podman and containerd write a new config.json for each)
(export TSRUN_NO_REPLAY=1; scenarios tsrun-node "$top/bin/tsrun" "$w")
scenarios runc runc "$w"
unshare -m bash "$0" --inner crun crun "$w" || echo "bench: crun failed" >&2
# `run` on a pure cgroup v2 hierarchy for tsrun and runc too (crun's `run` above is one)
unshare -m bash "$0" --inner-v2run tsrun "$top/bin/tsrun" "$w" || echo "bench: tsrun on cgroup v2 failed" >&2
(export TSRUN_NO_REPLAY=1; unshare -m bash "$0" --inner-v2run tsrun-node "$top/bin/tsrun" "$w") || echo "bench: tsrun on cgroup v2 failed" >&2
unshare -m bash "$0" --inner-v2run runc runc "$w" || echo "bench: runc on cgroup v2 failed" >&2

nodecmd=$(command -v node)
"${hf[@]}" -w 2 -r $((RUNS * 2)) --export-json "$w/out/node.json" "$nodecmd -e 0" >/dev/null
fi

# ---- the table -----------------------------------------------------------------------
python3 - "$w/out" "$SEQ" "$PAR" "$(du -sh "$w/big.tar" | cut -f1)" "$(du -sh "$w/huge.tar" | cut -f1)" <<'EOF'
import json, os, statistics, sys
out, seq, par, bigsize, hugesize = sys.argv[1:6]
def med(name):
    p = os.path.join(out, name + '.json')
    if not os.path.exists(p): return None
    return json.load(open(p))['results'][0]['median'] * 1000
def txt(name):
    p = os.path.join(out, name)
    return open(p).read().strip() if os.path.exists(p) else '-'
def rounds(first, warm, tar):
    # (first - warm) / tar within each round: ext4's speed drifts between rounds, less within one
    v = [json.load(open(os.path.join(out, k + '.json')))['results'][0]['times'] for k in (first, warm, tar) if os.path.exists(os.path.join(out, k + '.json'))]
    if len(v) != 3: return None
    return statistics.median((f - w) / t for f, w, t in zip(*v))
def ms(v): return '-' if v is None else ('%.0f ms' % v if v >= 100 else '%.1f ms' % v)
rows = [('run (`true`)', 'run'), ('run of a new container of a known image (new 64-hex id and bundle, as containerd)', 'newid'),
        ('create+start+wait+delete', 'cycle'),
        ('%s sequential runs (total)' % seq, 'seq'), ('%s runs, %s at a time (total)' % (seq, par), 'par'),
        ('state of a created container', 'state'),
        ('a new config.json per container (id, hostname, annotation, cgroupsPath; as podman, CRI): run', 'cfgrun'),
        ('the same: create, start, state until stopped, delete', 'cfgcycle'),
        ('`exec ID true` into a running container (CRI ExecSync, podman exec)', 'exec')]
def ratio(a, b): return '%.2f' % (a / b) if a and b else '-'
nodems = med('node')
if med('runc.run') is not None:
    print('| scenario | tsrun | tsrun, no replay | runc | crun | tsrun/runc | no replay/runc |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for label, key in rows:
        t, n, r, c = med('tsrun.' + key), med('tsrun-node.' + key), med('runc.' + key), med('crun.' + key)
        print('| %s | %s | %s | %s | %s | %s | %s |' % (label, ms(t), ms(n), ms(r), ms(c), ratio(t, r), ratio(n, r)))
    t, n, r, c = med('tsrun.v2run'), med('tsrun-node.v2run'), med('runc.v2run'), med('crun.run')
    print('| run (`true`) on pure cgroup v2 (private mount ns) | %s | %s | %s | %s | %s | %s |' % (ms(t), ms(n), ms(r), ms(c), ratio(t, r), ratio(n, r)))
    print('| `node -e 0` (reference for state) | %s | | | | | |' % ms(nodems))
    def mem(rt):
        v = txt(rt + '.mem').split()
        return ('%d KiB RSS / %d KiB PSS (%s proc)' % (int(v[0]), int(v[1]), v[2])) if len(v) == 3 else '-'
    print('| memory of a created container | %s | %s | %s | %s | | |' % (mem('tsrun'), mem('tsrun-node'), mem('runc'), mem('crun')))
    print('| 512 KiB memory limit, `true` | %s | %s | %s | %s | | |' % (txt('tsrun.small'), txt('tsrun-node.small'), txt('runc.small'), txt('crun.small')))
print()
print('| image layers (tsrun) | median |')
print('|---|---:|')
w, v, p = med('img.warm'), med('img.volatile'), med('img.plain')
print('| run from an unpacked image (busybox layer), replayed | %s |' % ms(w))
print('| the same, volatile write layer (tsrun.volatile) | %s |' % ms(v))
print('| run on a plain rootfs, replayed | %s |' % ms(p))
ci, cp = med('img.cs-img'), med('img.cs-plain')
print('| create+start (running) from the unpacked image / on a plain rootfs | %s / %s |' % (ms(ci), ms(cp)))
for name, size, what in (('big', bigsize, ''), ('huge', hugesize, ', 1500 files of 100 kB and one of 50 MiB')):
    f, fw, t = med('img.%s.first' % name), med('img.%s.warm' % name), med('img.%s.tar' % name)
    print('| first unpack of a %s layer%s (first run - warm run, through Node; interleaved with tar) | %s |' % (size, what, ms(f - fw if f and fw else None)))
    print('| `tar -x` of the same file | %s |' % ms(t))
    if f and fw and t: print('| unpack / tar -x | %.2f |' % ((f - fw) / t))
    r = rounds('img.%s.first' % name, 'img.%s.warm' % name, 'img.%s.tar' % name)
    if r: print('| the same, median of the rounds\' ratios (each round one file system state) | %.2f |' % r)
if nodems is not None:
    print()
    print('state - node -e 0: %.1f ms' % ((med('tsrun.state') or 0) - nodems))
EOF
echo
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo), kernel $(uname -r), node $(node --version), runc $(runc --version | awk 'NR==1{print $3}'), crun $(crun --version | awk 'NR==1{print $3}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
