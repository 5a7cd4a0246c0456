#!/bin/bash
# suites.sh conformance|cri - the suites other people wrote, run against bin/tsrun and,
# in the same run, against runc, then compared.  Not part of `make test`: they take
# minutes and need what CI cannot fetch (their sources come from public git repositories,
# Go 1.22 from Debian's backports).  The harnesses live in ../shared (SHARED to move it).
#
#   make conformance   OCI runtime-tools validation (58 binaries), tsrun beside runc
#                      RT_TOOLS_DIR  the built suite (default /var/tmp/rt-tools)
#                      ONLY="a b"    a subset of the binaries
#   make cri           Kubernetes' critest v1.26.1 through a private containerd 1.6,
#                      tsrun beside runc; CRI_WORK (default /var/tmp/cri-work)
#                      CRITEST_FOCUS=regex  a subset of the specs
# Results go to OUT (default /var/tmp/tsrun-suites/<suite>-<date>).  The exit status is
# non-zero when tsrun fails something runc passes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$(cd "$top/.." && pwd)/shared}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
TSRUN=$top/bin/tsrun
suite=${1:-}
OUT=${OUT:-/var/tmp/tsrun-suites/$suite-$(date +%Y%m%d-%H%M%S)}

die() { echo "suites: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (the suites start real containers)"
[ -x "$TSRUN" ] || die "$TSRUN is missing: run make build first"

case "$suite" in
conformance)
  RT_TOOLS_DIR=${RT_TOOLS_DIR:-/var/tmp/rt-tools}
  harness=$SHARED/conformance
  [ -f "$harness/run-suite.sh" ] || die "no harness at $harness (set SHARED to the folder that holds conformance/)"
  if ! ls "$RT_TOOLS_DIR"/src/validation/*/*.t >/dev/null 2>&1; then
    die "the runtime-tools suite is not built in $RT_TOOLS_DIR/src.  Build it once (a few minutes):
  1. a git dir of github.com/opencontainers/runtime-tools (the search tool's
     'fetch github:opencontainers/runtime-tools' gives one, or git clone --bare it)
  2. bash $harness/build.sh GIT_DIR $RT_TOOLS_DIR
then make conformance again (RT_TOOLS_DIR=... if you built it elsewhere)."
  fi
  mkdir -p "$OUT"
  export RT_SRC=$RT_TOOLS_DIR/src
  echo "--- runc ($RUNC) -> $OUT/runc"
  bash "$harness/run-suite.sh" "$RUNC" "$OUT/runc" | tail -1
  echo "--- tsrun ($TSRUN) -> $OUT/tsrun"
  bash "$harness/run-suite.sh" "$TSRUN" "$OUT/tsrun" | tail -1
  bash "$harness/compare.sh" "$OUT/runc" "$OUT/tsrun" > "$OUT/compare.txt"
  # the per-binary table, then what runc passes and tsrun does not
  awk '$1 == "BINARY" { print $2, $3 }' "$OUT/runc/summary.txt" | sort > "$OUT/runc.st"
  awk '$1 == "BINARY" { print $2, $3 }' "$OUT/tsrun/summary.txt" | sort > "$OUT/tsrun.st"
  join "$OUT/runc.st" "$OUT/tsrun.st" | awk '{ printf "%-36s runc %-5s tsrun %s\n", $1, $2, $3 }'
  worse=$(join "$OUT/runc.st" "$OUT/tsrun.st" | awk '$2 == "PASS" && $3 != "PASS" { print $1 }')
  echo "compare.sh output: $OUT/compare.txt"
  if [ -n "$worse" ]; then
    echo "tsrun fails what runc passes: $worse"
    exit 1
  fi
  echo "tsrun passes every binary runc passes"
  ;;
cri)
  harness=$SHARED/cri
  [ -f "$harness/run.sh" ] || die "no harness at $harness (set SHARED to the folder that holds cri/)"
  CRI_WORK=${CRI_WORK:-/var/tmp/cri-work}
  if [ ! -x "$CRI_WORK/bin/critest" ] || [ ! -f /tmp/cri/test-images.yaml ]; then
    die "critest is not set up (no $CRI_WORK/bin/critest or /tmp/cri/test-images.yaml).  Once:
  1. build the runtime-tools toolchain (make conformance says how): critest uses its Go 1.22
  2. a git dir of github.com/kubernetes-sigs/cri-tools (the search tool's
     'fetch github:kubernetes-sigs/cri-tools')
  3. CRI_TOOLS_GIT=GIT_DIR bash $harness/setup.sh
then make cri again; bash $harness/teardown.sh removes it all."
  fi
  mkdir -p "$OUT"
  echo "--- runc ($RUNC)"
  bash "$harness/run.sh" "$RUNC" "$OUT/runc" | tail -1
  echo "--- tsrun ($TSRUN)"
  bash "$harness/run.sh" "$TSRUN" "$OUT/tsrun" | tail -1
  # per spec: status and seconds of each, the ratio, and the totals
  python3 - "$OUT" <<'EOF'
import sys
out = sys.argv[1]
def load(side):
    rows = {}
    for line in open(f"{out}/{side}/results.tsv"):
        st, t, name = line.rstrip("\n").split("\t", 2)
        rows[name] = (st, float(t or 0))
    return rows
r, t = load("runc"), load("tsrun")
worse, lines = [], []
for name in sorted(set(r) | set(t)):
    rs, rt = r.get(name, ("-", 0.0)); ts, tt = t.get(name, ("-", 0.0))
    ratio = tt / rt if rt > 0 else 0.0
    lines.append(f"{rs:8} {ts:8} {rt:7.2f} {tt:7.2f} {ratio:5.2f}  {name}")
    if rs == "passed" and ts != "passed": worse.append(name)
open(f"{out}/compare.txt", "w").write("runc     tsrun    runc_s tsrun_s ratio spec\n" + "\n".join(lines) + "\n")
rt_total = sum(v[1] for v in r.values()); ts_total = sum(v[1] for v in t.values())
print(f"specs' time: runc {rt_total:.1f} s, tsrun {ts_total:.1f} s ({ts_total / max(rt_total, 1e-9):.2f}x); per spec: {out}/compare.txt")
for n in worse: print(f"tsrun fails what runc passes: {n}")
sys.exit(1 if worse else 0)
EOF
  ;;
*)
  die "usage: scripts/suites.sh conformance|cri (make conformance, make cri)"
  ;;
esac
