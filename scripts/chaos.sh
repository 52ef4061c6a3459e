#!/usr/bin/env bash
# make chaos: every fault of issue 18's R1–R10 against the real wdai binary,
# a real PostgreSQL and the provider stand-ins. Each row prints one figure
# with PASS or FAIL; the table goes to docs/reliability.md with the date and
# the machine. CHAOS_SCALE=short (CI) runs R1, R3 and R4 at a smaller scale
# and leaves the docs alone. Needs TEST_DATABASE_URL (the Makefile runs this
# under withpg) and STRIPE_MOCK_BIN.
set -uo pipefail
cd "$(dirname "$0")/.."

scale=${CHAOS_SCALE:-full}
fuzztime=${CHAOS_FUZZTIME:-60s}
fuzzmin=${CHAOS_FUZZ_MIN_INPUTS:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs"
export WDAI_CHAOS=$scale WDAI_CHAOS_OUT=$work/figures.tsv WDAI_CHAOS_LOGDIR=$work/logs
started=$(date +%s)

# The chaos rows' test binary, built once.
if ! go test -c -o "$work/wdai.test" ./cmd/wdai/; then
  echo "chaos: cmd/wdai tests do not build" >&2
  exit 1
fi

# own ROW TEST: a chaos row written for this run; it records its own figure.
own() {
  local row=$1 test=$2
  echo "chaos: $row ($test)"
  if ! (cd cmd/wdai && "$work/wdai.test" -test.count=1 -test.timeout 14m -test.run "^${test}\$" -test.v) >"$work/$row.out" 2>&1; then
    grep -q "^$row	" "$work/figures.tsv" 2>/dev/null ||
      printf '%s\tFAIL\t%s\t%s\n' "$row" "$scale" "$(grep -m1 -E -- '--- FAIL|panic:|FAIL' "$work/$row.out")" >>"$work/figures.tsv"
    tail -40 "$work/$row.out"
  fi
}

# reuse ROW FIGURE PKG RUN: a row shown by existing tests; on a failure the
# figure is the first failure line. Log lines matching FIGURE_GREP (if set)
# are added to the figure.
reuse() {
  local row=$1 figure=$2 pkg=$3 run=$4
  echo "chaos: $row ($run)"
  if go test -count=1 -timeout 10m -run "$run" -v "$pkg" >"$work/$row.out" 2>&1; then
    local cases extra=""
    cases=$(grep -c -- '--- PASS' "$work/$row.out")
    if [ -n "${FIGURE_GREP:-}" ]; then
      extra=$(grep -E "$FIGURE_GREP" "$work/$row.out" | sed -E 's/^ *[a-z0-9_]+\.go:[0-9]+: //' | paste -sd ';' -)
    fi
    printf '%s\tPASS\t%s\t%s (%d tests and cases passed%s)\n' "$row" "$scale" "$figure" "$cases" "${extra:+; $extra}" >>"$work/figures.tsv"
  else
    printf '%s\tFAIL\t%s\t%s\n' "$row" "$scale" "$(grep -m1 -E -- '--- FAIL|panic:' "$work/$row.out") $(grep -m1 -E '_test.go:[0-9]+:' "$work/$row.out" | sed 's/^ *//')" >>"$work/figures.tsv"
    tail -40 "$work/$row.out"
  fi
}

# fuzz ROW TARGET PKG: a fuzz target for $fuzztime; the figure is the
# number of inputs run, as the target itself counts them in every worker
# (internal/fuzzcount: Go's own "execs" line can stand still for most of a
# run). Fewer than $fuzzmin inputs fails the row: the fuzzing did not run.
fuzz() {
  local row=$1 target=$2 pkg=$3 counts="$work/fuzzcount-$2"
  echo "chaos: $row ($target for $fuzztime)"
  rm -rf "$counts" && mkdir -p "$counts"
  if WDAI_FUZZ_COUNT_DIR="$counts" go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel 2 "$pkg" >"$work/$row-$target.out" 2>&1; then
    local inputs
    inputs=$(find "$counts" -type f ! -name '*.tmp' -exec cat {} + | awk '/^[0-9]+$/ { s += $1; next } { bad = 1 } END { if (bad) print "unreadable"; else print s + 0 }')
    if [ "$inputs" != unreadable ] && [ "$inputs" -ge "$fuzzmin" ]; then
      printf '%s\tPASS\t%s\t%s\n' "$target" "$inputs" "$fuzztime" >>"$work/fuzz.tsv"
    else
      printf '%s\tFAIL\t%s (fewer than %s)\t%s\n' "$target" "$inputs" "$fuzzmin" "$fuzztime" >>"$work/fuzz.tsv"
      ls -l "$counts"
      tail -30 "$work/$row-$target.out"
    fi
  else
    printf '%s\tFAIL\t%s\t%s\n' "$target" "$(grep -m1 -E 'answered|panic|--- FAIL' "$work/$row-$target.out")" "$fuzztime" >>"$work/fuzz.tsv"
    tail -30 "$work/$row-$target.out"
  fi
}

own R1 TestChaosR1DuplicateStorm
own R3 TestChaosR3KillDuringIngest
own R4 TestChaosR4PostgresRestart
if [ "$scale" = full ]; then
  own R6 TestChaosR6WorkerKilledMidBatch
  WDAI_CHAOS_SEEDS=1000 reuse R2 "1,000 seeds of shuffled, duplicated lifecycle deliveries: every one converged to the stand-in's final state, Activated at most once" \
    ./cmd/wdai/ '^TestShuffledDuplicatedDeliveriesConverge$'
  FIGURE_GREP='with 30% faults|outage .*calls reached' reuse R5 "30% 429/500/timeouts/403 from Mailchimp, a Stripe outage and a hung Stripe call, a Luma 429, a failing job's page: every change synced or dead-lettered with an alert, replay finished all, every event applied" \
    ./cmd/wdai/ '^(TestEmailSyncUnderFaultsEndsSyncedOrDeadLettered|TestStripeOutageIsRiddenOut|TestHungStripeCallHoldsUpOnlyItsEvent|TestApprovalDeferredByA429ResumesWithoutUpdatingTwice|TestCronSlotRunsThroughTheRouterRetriesDeadLettersAndCompletesOnReplay|TestDeadLetteredPageMarksItsRunDeadLetter)$'
  fuzz R7 FuzzStripeWebhookNever5xx ./cmd/wdai/
  fuzz R7 FuzzGraphQLRequest ./graph/
  if grep -q FAIL "$work/fuzz.tsv"; then v=FAIL; else v=PASS; fi
  printf 'R7\t%s\t%s\t%s\n' "$v" "$scale" "$(awk -F'\t' '{ printf "%s%s %s: %s inputs in %s", (NR>1?"; ":""), $1, $2, $3, $4 }' "$work/fuzz.tsv"), 0 panics and 0 5xx required, at least $fuzzmin inputs each" >>"$work/figures.tsv"
  reuse R8 "every root field declares its access, every protected field, mutation and project operation denied without its scope and allowed with it, per role and agent key scope" \
    ./graph/ '^(TestEveryRootFieldDeclaresAccess|TestEveryDirectiveIsWired|TestEveryGraphQLScopeIsADomainScope|TestProtectedFieldsDenyWithoutScopeAndAllowWithIt|TestProjectOperationsDeriveTheirAccessFromTheSchema|TestScopesAreDerivedThroughFragments|TestAgentMayRunMutationsOnlyWhenGranted|TestStarterOperationsFitTheirPresets)$'
  FIGURE_GREP='admitted [0-9]+' reuse R9 "two wdai serve replicas on one database hold one allowance, anonymous and per agent key, within 5%" \
    ./cmd/wdai/ '^(TestTwoReplicasShareOneRateLimit|TestTwoReplicasHoldOneAgentKeyLimit)$'
fi
own R10 TestChaosR10LogsHoldNoSecrets

took=$(($(date +%s) - started))
echo
echo "chaos ($scale) in ${took}s:"
sort -V "$work/figures.tsv" | awk -F'\t' '{ printf "%-4s %-4s %s\n", $1, $2, $4 }'

if [ "$scale" = full ]; then
  {
    echo "# Reliability under faults"
    echo
    echo "Written by \`make chaos\` (scripts/chaos.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'), in ${took} s, on $(nproc) cores of"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GB", $2/1048576 }' /proc/meminfo) RAM, $(uname -sr),"
    echo "$(go version | cut -d' ' -f3), PostgreSQL $(postgres --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+' | head -1)."
    echo "Each row drives the real \`wdai\` binary (or the whole service in-process where an existing test does), a real"
    echo "PostgreSQL and the provider stand-ins; the table below it names the test behind each row."
    echo
    echo "| row | fault | result | figure |"
    echo "|---|---|---|---|"
    sort -V "$work/figures.tsv" | while IFS=$'\t' read -r row verdict _ figure; do
      case $row in
        R1) what="duplicate storm" ;; R2) what="orderings" ;; R3) what="kill -9 during ingest" ;;
        R4) what="PostgreSQL restart" ;; R5) what="provider faults" ;; R6) what="subscriber stopped mid-batch" ;;
        R7) what="fuzzing" ;; R8) what="access matrix" ;; R9) what="rate limits across 2 replicas" ;; R10) what="logs" ;;
      esac
      echo "| $row | $what | $verdict | ${figure//|/\\|} |"
    done
    echo
    sed -n '/^## How each row is measured/,$p' docs/reliability.md
  } >"$work/reliability.md"
  if grep -q '^## How each row is measured' "$work/reliability.md"; then
    cp "$work/reliability.md" docs/reliability.md
    echo "chaos: wrote docs/reliability.md"
  fi
fi

if cut -f2 "$work/figures.tsv" | grep -q FAIL; then
  echo "chaos: FAIL" >&2
  exit 1
fi
echo "chaos: PASS"
