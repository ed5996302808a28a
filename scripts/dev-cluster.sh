#!/usr/bin/env bash
# The production topology on one machine: a SpiceDB server (the pinned build) on a PostgreSQL
# datastore, two API processes on consecutive ports and one outbox worker, all on this machine's
# PostgreSQL. Prints their addresses; Ctrl-C stops them all.
#
#   npm run cluster                    # API on 127.0.0.1:8000 and :8001, SpiceDB on :50051
#   CLUSTER_PORT=9000 npm run cluster  # API on :9000 and :9001
#
# Uses scripts/dev-postgres.sh (or KARTOGRAPH_DB_URL's server when set, as a superuser) and
# scripts/spicedb-binary.sh. Databases: kartograph_iam_cluster (the service's) and
# kartograph_spicedb_cluster (SpiceDB's datastore), created when missing and kept between runs;
# CLUSTER_FRESH=1 drops both first. Logs go to .cache/cluster/*.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "cluster: $*" >&2; }

api_port=${CLUSTER_PORT:-8000}
spicedb_port=${CLUSTER_SPICEDB_PORT:-50051}
logs="$root/.cache/cluster"
mkdir -p "$logs"

server_url=${KARTOGRAPH_DB_URL:-$(scripts/dev-postgres.sh)}
database_url() { node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$server_url" "$1"; }
admin_url=$(database_url postgres)
iam_url=$(database_url kartograph_iam_cluster)
datastore_url=$(database_url kartograph_spicedb_cluster)

for db in kartograph_iam_cluster kartograph_spicedb_cluster; do
  if [[ ${CLUSTER_FRESH:-0} == 1 ]]; then psql -X -q -d "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; fi
  exists=$(psql -X -qtA -d "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [[ -z $exists ]]; then psql -X -q -d "$admin_url" -c "CREATE DATABASE $db"; say "created database $db"; fi
done

spicedb=$(scripts/spicedb-binary.sh)
node scripts/build-if-stale.mjs >&2
say "migrating SpiceDB's datastore"
"$spicedb" datastore migrate head --datastore-engine postgres --datastore-conn-uri "$datastore_url" --skip-release-check --log-level warn >"$logs/spicedb-migrate.log" 2>&1
key=${SPICEDB_PRESHARED_KEY:-dev-cluster-key}

pids=()
stop_all() {
  trap - INT TERM EXIT
  say "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

"$spicedb" serve --grpc-addr "127.0.0.1:$spicedb_port" --grpc-preshared-key "$key" \
  --datastore-engine postgres --datastore-conn-uri "$datastore_url" \
  --http-enabled=false --metrics-enabled=false --telemetry-endpoint= --skip-release-check \
  >"$logs/spicedb.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$spicedb_port") 2>/dev/null && break
  sleep 0.2
done

export KARTOGRAPH_DB_URL=$iam_url SPICEDB_ENDPOINT="127.0.0.1:$spicedb_port" SPICEDB_PRESHARED_KEY=$key SPICEDB_USE_TLS=false
# One migration first: the API processes would otherwise race for it (they would wait on its lock).
node dist/kartograph-iam.mjs migrate >&2
# One after the other: the first creates the development issuer's key in ./data, the second reads it.
for offset in 0 1; do
  PORT=$((api_port + offset)) KARTOGRAPH_OUTBOX_ENABLED=false node dist/kartograph-iam.mjs serve >"$logs/api-$offset.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$((api_port + offset))/health/ready" >/dev/null && break
    if ! kill -0 "$pid" 2>/dev/null; then say "API process on port $((api_port + offset)) stopped; see $logs/api-$offset.log"; tail -n 5 "$logs/api-$offset.log" >&2; exit 1; fi
    sleep 0.2
  done
done
node dist/kartograph-iam.mjs worker >"$logs/worker.log" 2>&1 &
pids+=($!)

cat <<EOF
cluster ready:
  API         http://127.0.0.1:$api_port  and  http://127.0.0.1:$((api_port + 1))  (KARTOGRAPH_OUTBOX_ENABLED=false)
  worker      kartograph-iam worker
  SpiceDB     127.0.0.1:$spicedb_port  (preshared key $key, datastore kartograph_spicedb_cluster)
  database    kartograph_iam_cluster
  logs        $logs/
Tokens: node dist/kartograph-iam.mjs token <username>   (the development issuer, as in the quick start)
Ctrl-C stops them all.
EOF
wait -n "${pids[@]}" || true
say "a process stopped on its own; see $logs/"
