#!/usr/bin/env bash
# Start a real standalone Spark cluster on 127.0.0.1 from the pip-installed pyspark: one master, two workers
# (1 core, 2 GB each). PIDs go to the state dir; scripts/cluster_down.sh stops exactly those processes.
#
# Usage: bash scripts/cluster_up.sh            then submit to spark://127.0.0.1:$MASTER_PORT
# Env:   CLUSTER_STATE (default build/cluster), MASTER_PORT (7077), MASTER_WEBUI_PORT (8080), WORKERS (2),
#        WORKER_CORES (1), WORKER_MEMORY (2g), CLUSTER_WAIT (seconds to wait for registration, default 90)
# Prints "MASTER_URL=spark://127.0.0.1:PORT" last (and writes it to $CLUSTER_STATE/master_url).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE=${CLUSTER_STATE:-$ROOT/build/cluster}
MASTER_PORT=${MASTER_PORT:-7077}
MASTER_WEBUI_PORT=${MASTER_WEBUI_PORT:-8080}
WORKERS=${WORKERS:-2}
WORKER_CORES=${WORKER_CORES:-1}
WORKER_MEMORY=${WORKER_MEMORY:-2g}
WAIT=${CLUSTER_WAIT:-90}
PY=${PYTHON:-$ROOT/.venv/bin/python}

export SPARK_HOME=${SPARK_HOME:-$("$PY" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')}
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_DAEMON_JAVA_OPTS=${SPARK_DAEMON_JAVA_OPTS:-"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
export SPARK_LOG_DIR=$STATE/logs

if [ -f "$STATE/pids" ]; then
  alive=0
  while read -r pid _; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$STATE/pids"
  if [ "$alive" = 1 ]; then
    echo "cluster_up: a cluster from $STATE is still running; run scripts/cluster_down.sh first" >&2
    exit 1
  fi
fi
rm -rf "$STATE"
mkdir -p "$STATE/logs"
URL="spark://127.0.0.1:$MASTER_PORT"

stop_started() {  # on failure: stop what this script started, nothing else
  while read -r pid _; do kill "$pid" 2>/dev/null || true; done < "$STATE/pids"
}

t0=$(date +%s)
nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
  --port "$MASTER_PORT" --webui-port "$MASTER_WEBUI_PORT" > "$STATE/logs/master.log" 2>&1 &
echo "$! master" >> "$STATE/pids"
until grep -q "I have been elected leader" "$STATE/logs/master.log" 2>/dev/null; do
  if [ $(( $(date +%s) - t0 )) -ge "$WAIT" ] || ! kill -0 "$(head -1 "$STATE/pids" | cut -d' ' -f1)" 2>/dev/null; then
    echo "cluster_up: master did not start; log: $STATE/logs/master.log" >&2
    tail -20 "$STATE/logs/master.log" >&2; stop_started; exit 1
  fi
  sleep 0.5
done
echo "cluster_up: master $URL up in $(( $(date +%s) - t0 )) s"

for i in $(seq 1 "$WORKERS"); do
  mkdir -p "$STATE/work$i"
  nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker "$URL" --host 127.0.0.1 \
    --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" --webui-port 0 --work-dir "$STATE/work$i" \
    > "$STATE/logs/worker$i.log" 2>&1 &
  echo "$! worker$i" >> "$STATE/pids"
done
until [ "$(grep -c "Registering worker" "$STATE/logs/master.log" 2>/dev/null)" -ge "$WORKERS" ]; do
  if [ $(( $(date +%s) - t0 )) -ge "$WAIT" ]; then
    echo "cluster_up: workers not registered after $WAIT s; logs in $STATE/logs" >&2
    tail -5 "$STATE"/logs/*.log >&2; stop_started; exit 1
  fi
  sleep 0.5
done
echo "$URL" > "$STATE/master_url"
echo "cluster_up: $WORKERS worker(s) registered in $(( $(date +%s) - t0 )) s (pids in $STATE/pids)"
echo "MASTER_URL=$URL"
