#!/usr/bin/env bash
# Stop the standalone cluster started by scripts/cluster_up.sh: exactly the PIDs recorded in its state dir
# (workers first, then the master), SIGTERM then SIGKILL after a bounded wait. Executors started by the
# workers are their children and exit with them.
# Env: CLUSTER_STATE (default build/cluster), CLUSTER_STOP_WAIT (seconds before SIGKILL, default 15)
set -uo pipefail
cd "$(dirname "$0")/.."
STATE=${CLUSTER_STATE:-$(pwd)/build/cluster}
WAIT=${CLUSTER_STOP_WAIT:-15}
if [ ! -f "$STATE/pids" ]; then
  echo "cluster_down: no $STATE/pids: nothing to stop"
  exit 0
fi
mapfile -t ENTRIES < <(tac "$STATE/pids")
for entry in "${ENTRIES[@]}"; do
  pid=${entry%% *}
  kill "$pid" 2>/dev/null && echo "cluster_down: SIGTERM $entry"
done
deadline=$(( $(date +%s) + WAIT ))
for entry in "${ENTRIES[@]}"; do
  pid=${entry%% *}
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.3; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null && echo "cluster_down: SIGKILL $entry"
  fi
done
mv "$STATE/pids" "$STATE/pids.stopped"
echo "cluster_down: stopped"
