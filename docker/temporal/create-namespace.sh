#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-namespace, image temporalio/admin-tools): waits for the
# Temporal frontend, then registers the namespace the worker and the API use. They start once this job succeeded,
# since the worker fails on a namespace that does not exist yet.
set -eu

attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" > /dev/null 2>&1; do
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS did not become healthy" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$DEFAULT_NAMESPACE" > /dev/null 2>&1; then
  echo "Namespace $DEFAULT_NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$DEFAULT_NAMESPACE" \
    --retention "$NAMESPACE_RETENTION"
fi
