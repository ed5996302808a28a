#!/usr/bin/env bash
# Makes the machine's PostgreSQL server ready for the tests and prints the URL they use:
#
#   export KARTOGRAPH_TEST_DB_URL=$(scripts/dev-postgres.sh)
#
# For Debian's and Ubuntu's PostgreSQL packages (pg_ctlcluster): starts the newest installed
# cluster if it is not running, waits until it answers, and creates (or resets the password of) a
# superuser role for the tests, through peer authentication as the OS user postgres. The tests
# create and drop their own databases, hence the superuser. pg_hba.conf is left as it is: the role
# signs in with a password (scram-sha-256 on 127.0.0.1 by default).
#
# KARTOGRAPH_DEV_PG_ROLE / KARTOGRAPH_DEV_PG_PASSWORD change the role (default kartograph_dev,
# password the same: a development server on loopback, not a secret).
set -euo pipefail

# Only the URL goes to stdout: callers capture it with $(...). Everything else (pg_ctlcluster's
# "Removed stale pid file.", psql's notices) goes to stderr, or the captured URL would start with it.
exec 3>&1 1>&2

role=${KARTOGRAPH_DEV_PG_ROLE:-kartograph_dev}
password=${KARTOGRAPH_DEV_PG_PASSWORD:-kartograph_dev}

say() { echo "dev-postgres: $*"; }

if [[ ! $role =~ ^[a-z_][a-z0-9_]*$ ]]; then
  say "KARTOGRAPH_DEV_PG_ROLE must be a plain lower-case identifier, got \"$role\""
  exit 1
fi
if [[ ! $password =~ ^[A-Za-z0-9._~-]+$ ]]; then
  say "KARTOGRAPH_DEV_PG_PASSWORD must be letters, digits and ._~- (it goes into a URL as it is)"
  exit 1
fi

version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $version ]] || ! command -v pg_ctlcluster >/dev/null; then
  say "no Debian PostgreSQL cluster found (/etc/postgresql, pg_ctlcluster): install postgresql, or set KARTOGRAPH_TEST_DB_URL to a server of your own"
  exit 1
fi
port=$(awk -v v="$version" '$1 == v && $2 == "main" { print $3 }' < <(pg_lsclusters --no-header))
if [[ -z $port ]]; then
  say "PostgreSQL $version has no cluster named main (pg_lsclusters)"
  exit 1
fi

if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  say "starting PostgreSQL $version (cluster main, port $port)"
  # 3>&-: the server must not hold the caller's $(...) open, or the capture never ends.
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 3>&-
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
fi
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  say "PostgreSQL $version does not answer on 127.0.0.1:$port; see /var/log/postgresql/postgresql-$version-main.log"
  exit 1
fi

# Peer authentication: run psql as the OS user postgres, over the cluster's Unix socket.
as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"
  elif [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"
  else sudo -u postgres -- "$@"
  fi
}
(cd / && as_postgres psql -X -q -p "$port" -d postgres -v ON_ERROR_STOP=1 -v role="$role" -v password="$password") <<'SQL'
SELECT format('CREATE ROLE %I', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN SUPERUSER PASSWORD %L', :'role', :'password') \gexec
SQL

url="postgresql://$role:$password@127.0.0.1:$port/postgres"
if ! psql -X -q -d "$url" -c "SELECT 1" >/dev/null; then
  say "role $role cannot sign in on 127.0.0.1:$port with its password; check pg_hba.conf"
  exit 1
fi
say "PostgreSQL $version ready on 127.0.0.1:$port, role $role"
echo "$url" >&3
