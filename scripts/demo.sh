#!/usr/bin/env bash
# make demo: starts `wdai dev` (server, worker, embedded PostgreSQL and the
# provider stand-ins) in a throwaway data folder, then walks one member, Ada,
# through the whole life, printing each step and every call each provider
# received:
#   sign-up (Clerk webhook), dev sign-in and checkout, the welcome journey, directory
#   visibility and the Slack sync, an event created by a leader and Ada's RSVP
#   with the approval run, a failed payment and its recovery, cancellation at
#   period end, then the end of the period (alumni, win-back journey).
# It exits 0 only if every step reached the state it checks.
set -euo pipefail
cd "$(dirname "$0")/.."

WDAI=${WDAI:-bin/wdai}
[ -x "$WDAI" ] || { echo "demo: $WDAI is missing: run make build first" >&2; exit 2; }

DATA=$(mktemp -d "${TMPDIR:-/tmp}/wdai-demo-XXXXXX")
chmod 755 "$DATA" # as root, the postgres account must reach the cluster's folder
export WDAI_DATA_DIR=$DATA WDAI_ENV=development
unset DATABASE_URL
LOG=$DATA/wdai-dev.log
dev_pid=

cleanup() {
  status=$?
  if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
    kill -INT "$dev_pid"
    for _ in $(seq 1 300); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ "$status" != 0 ]; then
    echo "---- last lines of the wdai dev log ($LOG) ----" >&2
    tail -n 40 "$LOG" >&2 || true
  fi
  rm -rf "$DATA"
  exit "$status"
}
trap cleanup EXIT

fail() { echo "demo: FAILED: $*" >&2; exit 1; }

step() { echo; echo "### $*"; }

# expect OUTPUT PATTERN WHAT: the step's output must contain the pattern.
expect() {
  grep -qE -- "$2" <<<"$1" || fail "$3 (expected /$2/ in the output above)"
}

HTTP_ADDR=127.0.0.1:0 LOG_FORMAT=text "$WDAI" dev >"$LOG" 2>&1 &
dev_pid=$!
for _ in $(seq 1 600); do
  [ -s "$DATA/dev.json" ] && break
  kill -0 "$dev_pid" 2>/dev/null || fail "wdai dev exited during start-up"
  sleep 0.1
done
[ -s "$DATA/dev.json" ] || fail "wdai dev not ready within 60s"
BASE=$(grep -o '"base":"[^"]*"' "$DATA/dev.json" | cut -d'"' -f4)
CONTROL=$(grep -o '"url":"[^"]*"' "$DATA/dev.json" | cut -d'"' -f4)
CONTROL_TOKEN=$(grep -o '"token":"[^"]*"' "$DATA/dev.json" | cut -d'"' -f4)
NEXT_CALL=0
# calls: print the provider calls made since the last time it was asked.
calls() {
  local out
  out=$(curl -sS --max-time 10 -D "$DATA/calls.h" -H "Authorization: Bearer $CONTROL_TOKEN" "$CONTROL/calls?from=$NEXT_CALL")
  NEXT_CALL=$(grep -i '^X-Next-Call:' "$DATA/calls.h" | tr -dc '0-9')
  echo "   provider calls:"
  if [ -n "$out" ]; then sed 's/^/     /' <<<"$out"; else echo "     (none)"; fi
  CALLS_OUT=$out
}
echo "wdai dev is up at $BASE (stand-ins and log in $LOG)"
grep -E '^stand-in|^GraphiQL' "$LOG" || true

# gql TOKEN QUERY: POST a GraphQL document as the token's person.
gql() {
  local body
  body=$(printf '{"query":%s}' "$(printf '%s' "$2" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')")
  curl -sS --max-time 30 "${BASE}graphql" -H 'Content-Type: application/json' -H "Authorization: Bearer $1" -d "$body"
}

ADA=ada@example.com
GRACE=grace@example.com

step "1. Ada signs up (Clerk's user.created webhook), signs in (dev token) and starts a checkout"
out=$("$WDAI" dev simulate signup --email "$ADA") || { echo "$out"; fail "sign-up"; }
echo "$out"
expect "$out" 'webhook sent: clerk user.created .* -> 20[0-9]' "wdai did not accept the sign-up webhook"
expect "$out" "person .* \\($ADA\\), role member" "the sign-up made no person"
ADA_TOKEN=$("$WDAI" dev token --email "$ADA")
out=$(gql "$ADA_TOKEN" '{ me { email role } }'); echo "   me: $out"
expect "$out" "\"email\":\"$ADA\"" "Ada is not signed in"
calls >/dev/null # from here on
out=$(gql "$ADA_TOKEN" 'mutation { startCheckout(tierId: "community") }'); echo "   startCheckout: $out"
expect "$out" '"startCheckout":"https://' "no checkout URL from the Stripe stand-in"
calls
expect "$CALLS_OUT" 'stripe +POST +/v1/checkout/sessions -> 200' "the Stripe stand-in received no checkout session"

step "2. Ada pays: the checkout completes (Stripe webhooks), membership active"
out=$("$WDAI" dev simulate checkout --email "$ADA") || { echo "$out"; fail "checkout"; }
echo "$out"
expect "$out" 'status=active' "the membership is not active"

step "3. The welcome journey"
expect "$out" 'mailchimp .*PUT .*/members/' "Ada was not added to the email list"
expect "$out" 'journeys/dev_welcome/.*trigger' "the welcome journey was not triggered"
echo "   welcome journey triggered at the Mailchimp stand-in (see the calls above)"

step "4. Ada appears in the directory, and the Slack sync finds her account"
out=$(gql "$ADA_TOKEN" 'mutation { setMyVisibility(visible: true) { status } }'); echo "   setMyVisibility: $out"
expect "$out" '"status":"ACTIVE"' "setMyVisibility did not answer the active membership"
out=$("$WDAI" dev simulate chat-sync --email "$ADA") || { echo "$out"; fail "Slack sync"; }
echo "$out"
expect "$out" "slack status of $ADA: active" "the Slack sync did not record Ada as active"

step "5. Grace, a leader, creates an event; Ada RSVPs; the approval run decides"
GRACE_TOKEN=$("$WDAI" dev token --email "$GRACE" --role leader)
START=$(date -u -d '+7 days' +%Y-%m-%dT17:00:00Z 2>/dev/null || date -u -v+7d +%Y-%m-%dT17:00:00Z)
END=$(date -u -d '+7 days' +%Y-%m-%dT19:00:00Z 2>/dev/null || date -u -v+7d +%Y-%m-%dT19:00:00Z)
calls >/dev/null # skip the sign-in's calls
out=$(gql "$GRACE_TOKEN" "mutation { createEvent(input: {idempotencyKey: \"demo-meetup\", name: \"AI meetup\", startAt: \"$START\", endAt: \"$END\", timeZone: \"Europe/Berlin\", capacity: 40}) { id name } }")
echo "   createEvent: $out"
expect "$out" '"name":"AI meetup"' "the event was not created"
calls
expect "$CALLS_OUT" 'luma +POST +/v1/events/create -> 200' "the Luma stand-in received no event"
out=$("$WDAI" dev simulate rsvp --email "$ADA") || { echo "$out"; fail "RSVP approval"; }
echo "$out"
expect "$out" 'decision: approve' "Ada's RSVP was not approved"

step "6. A renewal payment fails"
out=$("$WDAI" dev simulate payment-failed --email "$ADA") || { echo "$out"; fail "payment failure"; }
echo "$out"
expect "$out" 'status=past_due' "the membership is not past_due"
expect "$out" 'journeys/dev_payment_failed/.*trigger' "the payment-failed journey was not triggered"

step "7. The payment is recovered"
out=$("$WDAI" dev simulate recover --email "$ADA") || { echo "$out"; fail "recovery"; }
echo "$out"
expect "$out" 'status=active' "the membership did not recover"

step "8. Ada cancels at the end of the period: still a member until then"
out=$("$WDAI" dev simulate cancel-at-period-end --email "$ADA") || { echo "$out"; fail "cancellation"; }
echo "$out"
expect "$out" 'status=active .*cancel_at_period_end=true' "the cancellation was not recorded"

step "9. The period ends: Ada is alumni"
out=$("$WDAI" dev simulate period-end --email "$ADA") || { echo "$out"; fail "period end"; }
echo "$out"
expect "$out" 'status=canceled .*alumni=true' "Ada is not alumni"
expect "$out" 'journeys/dev_win_back/.*trigger' "the win-back journey was not triggered"

echo
echo "demo: every step happened"
