#!/bin/bash
# The verbs the C front answers (bin/tsrun: state, start, kill, delete) against
# runc and against the TypeScript CLI itself (node dist/tsrun.js), one
# hyperfine table each.  A script, not a test.  BENCH_RUNS=30 by default.
#   bash scripts/bench-front.sh
set -euo pipefail
unset NODE_EXTRA_CA_CERTS TSRUN_FRONT_TRACE
top=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-30}
w=$(mktemp -d /tmp/tsrun-bench-front.XXXXXX)
id=bf$$
cleanup() {
  "$top/bin/tsrun" --root "$w/ts" delete -f "$id" >/dev/null 2>&1 || true
  runc --root "$w/runc" delete -f "$id" >/dev/null 2>&1 || true
  rm -rf "$w"
}
trap cleanup EXIT
mkdir -p "$w/b"
python3 - "$top/bundles/busybox/config.json" "$w/b/config.json" "$top/bundles/busybox/rootfs" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
spec.pop('tsrun', None)
spec['root']['path'] = sys.argv[3]
spec['process']['args'] = ['sleep', '1000']
spec['process']['terminal'] = False
json.dump(spec, open(sys.argv[2], 'w'))
EOF

declare -A CMD=([front]="$top/bin/tsrun --root $w/ts" [node]="node $top/dist/tsrun.js --root $w/ts" [runc]="runc --root $w/runc")
rootof() { case $1 in runc) echo "runc --root $w/runc" ;; *) echo "$top/bin/tsrun --root $w/ts" ;; esac; }
wait_stopped() { echo "until $1 state $id | grep -q '\"stopped\"'; do sleep 0.01; done"; }

hf() { hyperfine -N --style basic -r "$RUNS" "$@" 2>/dev/null | grep -E '^Benchmark|Time \(mean'; }

for verb in state start kill delete; do
  echo "== $verb"
  args=()
  for r in front node runc; do
    c=${CMD[$r]}
    admin=$(rootof $r)
    case $verb in
      state)
        $admin delete -f $id >/dev/null 2>&1 || true
        $admin create -b "$w/b" $id
        args+=(-n "$r" "$c state $id")
        ;;
      start) args+=(--prepare "bash -c '$admin delete -f $id >/dev/null 2>&1; $admin create -b $w/b $id'" -n "$r" "$c start $id") ;;
      kill) args+=(--prepare "bash -c '$admin delete -f $id >/dev/null 2>&1; $admin run -d -b $w/b $id >/dev/null'" -n "$r" "$c kill $id KILL") ;;
      delete) args+=(--prepare "bash -c '$admin delete -f $id >/dev/null 2>&1; $admin run -d -b $w/b $id >/dev/null; $admin kill $id KILL; $(wait_stopped "$admin")'" -n "$r" "$c delete $id") ;;
    esac
  done
  if [ $verb = state ]; then
    # one container per runtime, made above; the three commands only read
    hf -w 3 -n front "${CMD[front]} state $id" -n node "${CMD[node]} state $id" -n runc "${CMD[runc]} state $id"
  else
    hf "${args[@]}"
  fi
done
