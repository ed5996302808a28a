#!/usr/bin/env bash
# Makes a physical streaming replica of the machine's PostgreSQL server (scripts/dev-postgres.sh)
# and prints the URL the replica suites use:
#
#   export KARTOGRAPH_TEST_DB_URL=$(scripts/dev-postgres.sh)
#   export KARTOGRAPH_TEST_REPLICA_URL=$(scripts/dev-replica.sh)
#
# For Debian's PostgreSQL packages: creates a second cluster, "replica" (port 5433 unless
# KARTOGRAPH_DEV_REPLICA_PORT says otherwise), from a base backup of "main" taken with
# `pg_basebackup -R` (so it streams from main and stays in recovery, read-only) through a
# replication slot, and starts it. An
# existing replica cluster that is in recovery is reused; one that is not (promoted, or some other
# cluster of that name) is left alone and the script fails. The replica streams as the OS user
# postgres over main's Unix socket (Debian's default `local replication all peer`), so pg_hba.conf
# is not touched. Roles and databases come from main: the test role signs in on both.
set -euo pipefail
exec 3>&1 1>&2

say() { echo "dev-replica: $*"; }

primary_url=$("$(dirname "$0")/dev-postgres.sh")
version=$(ls /etc/postgresql | sort -V | tail -n 1)
port=${KARTOGRAPH_DEV_REPLICA_PORT:-5433}
primary_port=$(awk -v v="$version" '$1 == v && $2 == "main" { print $3 }' < <(pg_lsclusters --no-header))
data_dir=/var/lib/postgresql/$version/replica

as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"
  elif [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"
  else sudo -u postgres -- "$@"
  fi
}

# A physical replication slot keeps main's WAL until the replica has it, so that a replica the
# tests stop and start catches up instead of finding its WAL recycled (a development machine's
# choice: a replica gone for good keeps main's WAL, so drop the slot with the cluster).
slot=kartograph_dev_replica
on_primary() { as_postgres psql -X -q -At -h /var/run/postgresql -p "$primary_port" -d postgres -c "$1"; }

existing_port=$(awk -v v="$version" '$1 == v && $2 == "replica" { print $3 }' < <(pg_lsclusters --no-header))
if [[ -n $existing_port && $(on_primary "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot'") != 1 ]]; then
  # Made before the slot (or its slot is gone): it may never catch up again; made anew.
  say "cluster $version/replica streams without the slot $slot; dropping it to make it again"
  pg_dropcluster --stop "$version" replica
  existing_port=""
fi
if [[ -z $existing_port ]]; then
  say "creating cluster $version/replica on port $port from a base backup of main"
  on_primary "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot' AND NOT active" >/dev/null
  as_postgres pg_createcluster "$version" replica -p "$port" >/dev/null
  # The cluster's own fresh data directory is replaced by the copy of main.
  as_postgres bash -c "rm -rf '$data_dir' && mkdir -m 700 '$data_dir'"
  (cd / && as_postgres pg_basebackup -D "$data_dir" -R -C -S "$slot" -X stream -c fast -h /var/run/postgresql -p "$primary_port" -U postgres)
  existing_port=$port
fi
port=$existing_port

if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  say "starting cluster $version/replica (port $port)"
  pg_ctlcluster --skip-systemctl-redirect "$version" replica start 3>&-
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
fi

url=${primary_url/:$primary_port\//:$port/}
in_recovery=$(psql -X -q -At -d "$url" -c "SELECT pg_is_in_recovery()" || true)
if [[ $in_recovery != t ]]; then
  say "cluster $version/replica on port $port does not answer as a replica in recovery (pg_is_in_recovery: ${in_recovery:-no answer}); see /var/log/postgresql/postgresql-$version-replica.log, or drop it (pg_dropcluster --stop $version replica) and run this again"
  exit 1
fi
say "PostgreSQL $version replica of main ready on 127.0.0.1:$port"
echo "$url" >&3
