#!/usr/bin/env bash
# Creates UsageFlow's Kafka topics on the docker-compose broker; run once by the `kafka-init`
# service (apache/kafka image) before any UsageFlow service starts. Safe to re-run:
# --if-not-exists leaves existing topics (and their data) alone.
#
# THIS LIST MIRRORS infra/local/topics.cjs (itself a mirror of `TOPIC_SPECS` in packages/contracts).
# The Kafka image has no Node, so it is repeated here: change all three together.
#   - each domain topic is the log of record: never expires (retention.ms=-1, retention.bytes=-1)
#   - each has a `<topic>.dlq` twin with the same partition count (a dead letter keeps its
#     source partition), kept 30 days (2592000000 ms), no size limit
# Existing topics are left alone; a partition-count mismatch is reported, not "fixed" (as
# infra/local does).
set -euo pipefail

BOOTSTRAP_SERVER="${BOOTSTRAP_SERVER:-kafka:9092}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
KAFKA_TOPICS="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"

# name:partitions
DOMAIN_TOPICS=(
  usageflow.identity.v1:6
  usageflow.catalog.v1:6
  usageflow.subscriptions.v1:6
  usageflow.usage-events.v1:12
  usageflow.usage-summaries.v1:6
  usageflow.invoices.v1:6
  usageflow.webhooks.v1:6
)
DLQ_RETENTION_MS=2592000000 # 30 * 24 * 60 * 60 * 1000

# The broker is healthy before this runs (depends_on), but wait a little anyway so a manual run
# against a broker that is still starting does not fail on the first call.
attempt=0
until "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP_SERVER" --list >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "create-topics: Kafka at $BOOTSTRAP_SERVER is not answering" >&2
    exit 1
  fi
  sleep 2
done

create() { # name partitions config...
  local name="$1" partitions="$2"
  shift 2
  echo "create-topics: $name (partitions=$partitions $*)"
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP_SERVER" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" "$@" </dev/null
}

for spec in "${DOMAIN_TOPICS[@]}"; do
  name="${spec%:*}"
  partitions="${spec##*:}"
  create "$name" "$partitions" --config retention.ms=-1 --config retention.bytes=-1
  create "$name.dlq" "$partitions" --config "retention.ms=$DLQ_RETENTION_MS" --config retention.bytes=-1
done

# Report partition-count drift (e.g. a volume created by an older version of this list).
# `--describe` prints one summary line per topic:
#   Topic: <name>  TopicId: <id>  PartitionCount: <n>  ReplicationFactor: <n>  Configs: ...
described="$("$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP_SERVER" --describe --exclude-internal </dev/null)"
for spec in "${DOMAIN_TOPICS[@]}"; do
  name="${spec%:*}"
  partitions="${spec##*:}"
  for topic in "$name" "$name.dlq"; do
    found="$(printf '%s\n' "$described" | awk -v t="$topic" \
      '$1 == "Topic:" && $2 == t { for (i = 3; i < NF; i++) if ($i == "PartitionCount:") print $(i + 1) }')"
    if [ "$found" != "$partitions" ]; then
      echo "create-topics: WARNING: topic $topic has ${found:-no} partitions, this list says $partitions (left as is)" >&2
    fi
  done
done

echo "create-topics: done; topics on $BOOTSTRAP_SERVER:"
"$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP_SERVER" --list </dev/null
