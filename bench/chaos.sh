#!/usr/bin/env bash
# Chaos run on real embedded servers: rows stream through Tributary while a seeded random schedule kills and
# restarts Kafka, the primary, the standby and Tributary itself (kill -9). Prints lost= duplicated= stale=,
# the throughput and the longest time any row took to reach the primary.
#   bench/chaos.sh [rows] [seed]        defaults: 200000 42   (1000000 works; it takes a while)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -Pchaos package -DskipTests -Dchaos.rows="${1:-200000}" -Dchaos.seed="${2:-42}"
