#!/bin/sh
# Run every fuzz target in turn, one job each, and print per target: executions, exec/s,
# corpus size and findings (crash/timeout/oom files in artifacts/TARGET/).
#
#   fuzz/run-all.sh 300             # 300 seconds per target
#   fuzz/run-all.sh -runs=10000000  # 10 M executions per target
#   TARGETS="scan ext4" fuzz/run-all.sh 60
#   EXTRA="-fork=1 -ignore_crashes=1" fuzz/run-all.sh 1800   # keep going past findings
#
# Works on stable Rust (RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the sanitizer flags). The
# working corpus grows in corpus/TARGET (not committed); seeds/TARGET is read, never written.
set -eu
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

LIMIT=${1:-60}
case "$LIMIT" in
  -*) BUDGET="$LIMIT" ;;
  *) BUDGET="-max_total_time=$LIMIT" ;;
esac
TARGETS=${TARGETS:-"block_header container_decode scan rs_repair catalog_open ext4 fat ntfs"}
EXTRA=${EXTRA:-}

# Per-target input size limits: containers and images need room, headers do not.
max_len() {
  case "$1" in
    block_header) echo 8192 ;;
    rs_repair) echo 256 ;;
    catalog_open) echo 262144 ;;
    ext4 | fat) echo 1048576 ;;
    ntfs) echo 1114112 ;;
    *) echo 131072 ;;
  esac
}

# Targets whose inputs are recipes or edit lists: use the whole length from the start.
len_control() {
  case "$1" in
    rs_repair | catalog_open | block_header) echo "-len_control=0" ;;
    *) echo "" ;;
  esac
}

mkdir -p logs
cargo fuzz build >logs/build.log 2>&1 || { cat logs/build.log; exit 1; }
SUMMARY=${SUMMARY:-logs/summary.txt}
printf '%-17s %12s %8s %8s %9s %s\n' target executions exec/s corpus findings "peak MB" >"$SUMMARY"
for t in $TARGETS; do
  mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
  log="logs/$t.log"
  before=$(ls "artifacts/$t" | wc -l)
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb/-malloc_limit_mb: memory must
  # stay bounded by what a block set needs, whatever the input claims.
  # shellcheck disable=SC2086
  cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    "$BUDGET" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len="$(max_len "$t")" $(len_control "$t") -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" $EXTRA >"$log" 2>&1 || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  corpus=$(ls "corpus/$t" | wc -l)
  after=$(ls "artifacts/$t" | wc -l)
  printf '%-17s %12s %8s %8s %9s %s\n' "$t" "${runs:-?}" "${rate:-?}" "$corpus" \
    "$((after - before))" "${peak:-?}" >>"$SUMMARY"
  if [ "$after" -gt "$before" ]; then
    ls -t "artifacts/$t" | head -n "$((after - before))" | sed "s|^|  finding: artifacts/$t/|" >>"$SUMMARY"
  fi
done
cat "$SUMMARY"
