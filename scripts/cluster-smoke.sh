#!/usr/bin/env bash
# CI's check that `npm run cluster` works as the README says: starts it from empty databases, then
# across its two API processes creates a workspace on one and reads it on the other, grants on one
# and reads as the grantee on the other, removes on the other and is refused on the first, 20
# rounds; fails on any other answer. Stops the cluster whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${CLUSTER_PORT:-8600}
log=$(mktemp)
CLUSTER_FRESH=1 CLUSTER_PORT=$port CLUSTER_SPICEDB_PORT=${CLUSTER_SPICEDB_PORT:-50651} \
  KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES='["smoke-admin"]' bash scripts/dev-cluster.sh >"$log" 2>&1 &
cluster=$!
trap 'kill -TERM $cluster 2>/dev/null; wait $cluster 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "cluster ready" "$log" && break
  kill -0 $cluster 2>/dev/null || { cat "$log"; echo "cluster-smoke: the cluster did not start" >&2; exit 1; }
  sleep 1
done
grep -q "cluster ready" "$log" || { cat "$log"; echo "cluster-smoke: not ready after 300 s" >&2; exit 1; }

a=http://127.0.0.1:$port
b=http://127.0.0.1:$((port + 1))
admin=$(node dist/kartograph-iam.mjs token smoke-admin)
user=$(node dist/kartograph-iam.mjs token smoke-user)
json=(-H 'content-type: application/json')
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(eval("(j)=>" + process.argv[1])(JSON.parse(s))))' "$1"; }

# The user joins the default tenant on a first tenant-scoped request.
curl -sf "$b/iam/workspaces" -H "authorization: Bearer $user" >/dev/null
root=$(curl -sf "$a/iam/workspaces" -H "authorization: Bearer $admin" | field 'j.workspaces.find((w) => w.parent_workspace_id === null).id')
wrong=0
for round in $(seq 1 20); do
  id=$(curl -sf -X POST "$a/iam/workspaces" -H "authorization: Bearer $admin" "${json[@]}" \
    -d "{\"name\":\"smoke $round\",\"parent_workspace_id\":\"$root\"}" | field 'j.id')
  answers="$(status "$b/iam/workspaces/$id" -H "authorization: Bearer $admin")"
  answers+=" $(status -X POST "$a/iam/workspaces/$id/members" -H "authorization: Bearer $admin" "${json[@]}" -d '{"member_type":"user","member_id":"smoke-user","role":"editor"}')"
  answers+=" $(status "$b/iam/workspaces/$id" -H "authorization: Bearer $user")"
  answers+=" $(status -X DELETE "$b/iam/workspaces/$id/members/smoke-user?member_type=user" -H "authorization: Bearer $admin")"
  answers+=" $(status "$a/iam/workspaces/$id" -H "authorization: Bearer $user")"
  if [[ $answers != "200 201 200 204 404" ]]; then
    wrong=$((wrong + 1))
    echo "cluster-smoke: round $round answered $answers (expected 200 201 200 204 404)" >&2
  fi
done
echo "cluster-smoke: 20 rounds across two API processes, $wrong with a stale or wrong answer"
[[ $wrong == 0 ]]
