#!/usr/bin/env bash
# Build the benchmarks, run them, and rewrite their figures in bench/RESULTS.md.
#
#   bench/run.sh                       every benchmark at full size (minutes; use a quiet machine)
#   bench/run.sh --only NAME [NAME...] only these (bench_log bench_topology bench_fold
#                                      bench_replica bench_http bench_seal bench_stream
#                                      compare_nats sim_federation)
#   bench/run.sh --smoke [--only ...]  tiny sizes (seconds): checks every program and the
#                                      rewrite, into build-bench/RESULTS-smoke.md, not RESULTS.md
#
# Builds with RelWithDebInfo in build-bench/. Each program's block in RESULTS.md, between the
# lines `<!-- bench:NAME begin -->` and `<!-- bench:NAME end -->`, is replaced (bench/results.py)
# by a line naming the date, commit, machine and load average before the run, the exact command,
# and the program's stdout in a fence; nothing outside the markers changes. stdout and stderr of
# every run are kept in build-bench/bench-logs/. bench_http needs a running node: kota-3577 of
# deploy/federation.sh (log_level warn, its province and national stopped: "alone"), on loopback
# ports found free, stopped at the end. compare_nats and sim_federation run when they are built.
# A program that is missing, fails or has no block leaves its block as it was; the script names
# it and exits 1 at the end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

ALL=(bench_log bench_topology bench_fold bench_replica bench_http bench_seal bench_stream
     compare_nats sim_federation)
OPTIONAL=" compare_nats sim_federation " # run when their targets exist, skipped otherwise
BUILD=build-bench

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

smoke=0
only=()
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1; shift ;;
    --only)
      shift
      while [ $# -gt 0 ] && [[ $1 != --* ]]; do only+=("$1"); shift; done
      [ ${#only[@]} -gt 0 ] || usage ;;
    -h|--help) usage ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; usage ;;
  esac
done
for n in "${only[@]}"; do
  [[ " ${ALL[*]} " == *" $n "* ]] || { echo "bench/run.sh: no benchmark $n" >&2; usage; }
done
[ ${#only[@]} -gt 0 ] && wanted=("${only[@]}") || wanted=("${ALL[@]}")

results=bench/RESULTS.md
logs=$BUILD/bench-logs
mkdir -p "$logs"
if [ $smoke = 1 ]; then # smoke figures mean nothing: rewrite a copy
  results=$BUILD/RESULTS-smoke.md
  cp bench/RESULTS.md "$results"
fi

# ---- build ----
echo "== building ($BUILD, RelWithDebInfo)"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$logs/cmake.log" 2>&1 ||
  { cat "$logs/cmake.log" >&2; echo "bench/run.sh: cmake failed" >&2; exit 1; }
known=$(cmake --build "$BUILD" --target help 2>/dev/null | sed -n 's/^\([A-Za-z0-9_]*\): .*/\1/p')
has_target() { grep -qx "$1" <<<"$known"; }

# ---- the machine, once ----
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- . ':!bench/RESULTS.md' 2>/dev/null || commit="$commit + uncommitted changes"
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
ram=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
debian="Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
rocksdb=$(dpkg-query -W -f='${Version}' librocksdb-dev 2>/dev/null || echo '?')
rocksdb=${rocksdb%-*} # upstream version, without the Debian revision
compiler="gcc $(cc -dumpfullversion 2>/dev/null || echo '?')"
machine="$(nproc) cores ($cpu), $ram RAM, $debian, RocksDB $rocksdb, $compiler RelWithDebInfo"

# ---- bench_http's node ----
fed=""
http_category=infrastruktur/jalan-provinsi # has a route in the subset (prov-35; deploy/federation/routes.yaml)
free_base() { # a port base whose next 60 ports nobody listens on (the three nodes use 0-53)
  local used base
  used=$(ss -Htln 2>/dev/null | awk '{ sub(/.*:/, "", $4); print $4 }')
  for base in $(seq 18400 100 28400); do
    if ! awk -v b="$base" '$1 >= b && $1 < b + 60 { f = 1 } END { exit !f }' <<<"$used"; then
      echo "$base"; return 0
    fi
  done
  return 1
}
http_node_up() { # sets http_port; kota-3577 alone, log_level warn
  local base
  fed=$BUILD/bench-http-federation
  rm -rf "$fed"
  base=$(free_base) || { echo "no free loopback ports for the node" >&2; return 1; }
  export SIMPUL=$PWD/$BUILD/node/simpul
  deploy/federation.sh up "$fed" --only national,prov-35,kota-3577 --port "$base" || return 1
  for id in national prov-35 kota-3577; do deploy/federation.sh stop "$fed" "$id"; done
  sed -i 's/^log_level: .*/log_level: warn/' "$fed/kota-3577/node.yaml"
  # the bench's 64 clients are one unidentified client to the node: lift the shared limit,
  # which would otherwise measure limits.anonymous_per_second instead of intake
  printf 'limits:\n  anonymous_per_second: 0\n' >>"$fed/kota-3577/node.yaml"
  deploy/federation.sh start "$fed" kota-3577 || return 1
  http_port=$(sed -n 's|^ *http: http://127.0.0.1:||p' "$fed/kota-3577/node.yaml")
}
http_node_down() {
  [ -n "$fed" ] || return 0
  deploy/federation.sh down "$fed" >/dev/null 2>&1
  rm -rf "$fed"
  fed=""
}
trap http_node_down EXIT

# ---- one benchmark ----
failed=()
fail() { echo "!! $1: $2" >&2; failed+=("$1"); }
errors_of() { # the compiler's errors in a build log, else its end
  grep -E '(error|FAILED):' "$1" | head -10 | grep . || tail -20 "$1"
}

args_of() { # the full-size arguments of $1 (the ones RESULTS.md's narrative describes)
  case $1 in
    bench_topology) echo "--rounds 50" ;;
    bench_fold) echo "--events 1000000" ;;
    bench_http) echo "--port $http_port --clients 64 --seconds 10 --category $http_category" ;;
    *) echo "" ;;
  esac
}

run_one() {
  local name=$1 bin=$BUILD/bench/$1 args cmd header load t0 rc limit
  echo "== $name"
  if ! has_target "$name"; then
    if [[ $OPTIONAL == *" $name "* ]]; then echo "   skipped: not built (no target $name)"; return; fi
    fail "$name" "no target $name in $BUILD"; return
  fi
  if ! python3 bench/results.py --has "$results" "$name"; then
    fail "$name" "no block for it in $results (markers <!-- bench:$name begin/end -->)"; return
  fi
  cmake --build "$BUILD" -j "$(nproc)" --target "$name" >"$logs/$name.build.log" 2>&1 ||
    { errors_of "$logs/$name.build.log" >&2; fail "$name" "build failed ($logs/$name.build.log)"; return; }
  if [ "$name" = bench_http ]; then
    : >"$logs/$name.node.log"
    if ! cmake --build "$BUILD" -j "$(nproc)" --target simpul >>"$logs/$name.build.log" 2>&1 ||
       ! http_node_up >"$logs/$name.node.log" 2>&1; then
      errors_of "$logs/$name.build.log" >&2
      tail -20 "$logs/$name.node.log" >&2
      fail "$name" "could not build or start its node"; http_node_down; return
    fi
  fi
  if [ $smoke = 1 ]; then
    args="--smoke"
    [ "$name" = bench_http ] && args="--smoke --port $http_port --category $http_category"
    limit=120
  else
    args=$(args_of "$name")
    limit=3600
  fi
  cmd="$bin${args:+ $args}"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(date +%s)
  # shellcheck disable=SC2086 # args are words
  timeout "$limit" "$bin" $args >"$logs/$name.out" 2>"$logs/$name.err"
  rc=$?
  [ "$name" = bench_http ] && http_node_down
  if [ $rc -ne 0 ]; then
    tail -20 "$logs/$name.out" "$logs/$name.err" >&2
    fail "$name" "exit status $rc after $(($(date +%s) - t0)) s ($logs/$name.err); its block is unchanged"
    return
  fi
  cat "$logs/$name.out"
  header="Run by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit; $machine;"
  header+=" load average before the run $load. Command: \`$cmd\`"
  printf '%s\n' "$header" >"$logs/$name.header"
  python3 bench/results.py "$results" "$name" "$logs/$name.header" "$logs/$name.out" ||
    { fail "$name" "could not rewrite its block in $results"; return; }
  echo "   $(($(date +%s) - t0)) s; block rewritten in $results"
}

for name in "${wanted[@]}"; do run_one "$name"; done

if [ ${#failed[@]} -gt 0 ]; then
  echo "bench/run.sh: FAILED: ${failed[*]} (their blocks in $results are unchanged)" >&2
  exit 1
fi
if [ $smoke = 1 ]; then
  echo "bench/run.sh: done (smoke: bench/RESULTS.md untouched); diff bench/RESULTS.md $results"
else
  echo "bench/run.sh: done; review with: git diff $results"
fi
