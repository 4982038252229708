#!/usr/bin/env bash
# End-to-end check of the image and the compose file on a Docker engine (Compose v2):
#   1. builds the image and starts Kafka, the demo producer and the processor (docker/compose.yaml);
#   2. waits until every record of the input topic has its redacted record (read_committed);
#   3. re-scans the redacted topic (keys, headers, values) with the image's own scanner: no finding
#      may be left, while the same scan of the input topic must find tokens (the check can fail);
#   4. checks that the processor runs as uid 1000 with its node flag, answers /readyz, and exits 0
#      on SIGTERM;
#   5. removes the containers, the network and the volumes.
# Usage, from anywhere:  docker/smoke.sh
# NODE_IMAGE and KAFKA_IMAGE name mirrors of node:24-slim and apache/kafka where Docker Hub is out
# of reach; JWT_REDACTOR_KEY is generated when unset.
set -euo pipefail
cd "$(dirname "$0")/.."

export JWT_REDACTOR_KEY="${JWT_REDACTOR_KEY:-$(openssl rand -hex 32)}"
project=jwt-redactor-smoke
compose=(docker compose -f docker/compose.yaml -p "$project")
work=$(mktemp -d)

cleanup() {
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAIL: $*" >&2
  "${compose[@]}" logs --no-color --tail 30 >&2 || true
  exit 1
}

# Every record of a topic, committed ones only, one "Partition:…" line each (values may span lines).
dump() {
  "${compose[@]}" exec -T kafka /opt/kafka/bin/kafka-console-consumer.sh \
    --bootstrap-server localhost:9092 --topic "$1" --from-beginning --isolation-level read_committed \
    --formatter-property print.partition=true --formatter-property print.offset=true \
    --formatter-property print.key=true --formatter-property print.headers=true \
    --timeout-ms 5000 2>/dev/null || true
}
# Records in a dump.
records() { grep -c '^Partition:' "$1" || true; }

# Scans stdin with the image's scanner; prints its exit code (0: nothing found, 1: findings).
rescan() {
  local code=0
  docker run --rm -i --entrypoint jwt-redactor -e JWT_REDACTOR_KEY jwt-redactor:dev \
    scan - --out /dev/null --findings - --fail-on info --no-progress >"$work/rescan.json" 2>"$work/rescan.err" || code=$?
  echo "$code"
}

echo "smoke: building and starting (project $project)"
"${compose[@]}" up -d --build >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "compose up"; }

# The dumps of the last round are the ones re-scanned below.
records_in=0
records_out=0
for _ in $(seq 1 30); do
  dump demo-logs >"$work/in.txt"
  dump demo-logs-redacted >"$work/out.txt"
  records_in=$(records "$work/in.txt")
  records_out=$(records "$work/out.txt")
  if [ "$records_in" -gt 0 ] && [ "$records_in" = "$records_out" ]; then break; fi
  sleep 2
done
[ "$records_in" -gt 0 ] || fail "the demo producer wrote nothing to demo-logs"
[ "$records_in" = "$records_out" ] || fail "demo-logs holds $records_in records, demo-logs-redacted $records_out"
dump demo-findings >"$work/findings.txt"
findings=$(records "$work/findings.txt")
[ "$findings" -gt 0 ] || fail "no findings on demo-findings"

[ "$(rescan <"$work/in.txt")" = 1 ] || fail "the re-scan of the input found nothing: the check cannot fail"
code=$(rescan <"$work/out.txt")
[ "$code" = 0 ] || { cat "$work/rescan.json" "$work/rescan.err" >&2; fail "the redacted topic still holds tokens (scan exit $code)"; }

uid=$("${compose[@]}" exec -T processor id -u)
[ "$uid" = 1000 ] || fail "the processor runs as uid $uid, not 1000"
args=$("${compose[@]}" exec -T processor cat /proc/1/cmdline | tr '\0' ' ')
case "$args" in *--max-semi-space-size=16*) ;; *) fail "the processor's node runs without its flag: $args" ;; esac
"${compose[@]}" exec -T processor node -e \
  "fetch('http://127.0.0.1:9464/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" ||
  fail "/readyz does not answer 200"

container=$("${compose[@]}" ps -q processor)
"${compose[@]}" stop processor >/dev/null 2>&1
exit_code=$(docker inspect --format '{{.State.ExitCode}}' "$container")
[ "$exit_code" = 0 ] || fail "the processor exited $exit_code on SIGTERM"

echo "smoke: OK: $records_in records in, $records_out redacted out (read_committed), $findings findings," \
  "re-scan of the output clean, processor uid $uid, /readyz 200, SIGTERM exit 0"
