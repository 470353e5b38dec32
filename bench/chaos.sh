#!/usr/bin/env bash
# Chaos run on real embedded servers: rows stream through Tributary while a seeded random schedule kills and
# restarts Kafka, the primary, the standby and Tributary itself (kill -9); every kind goes down at least once
# (the first four faults, in shuffled order) unless every-kind is false. Prints lost= duplicated= stale=, the
# faults by kind, the throughput and the longest time any row took to reach the primary.
# Exits non-zero when a key was lost, duplicated or stale, or the primary did not converge within 15 minutes
# (the -Pchaos profile runs the class with exec-maven-plugin, which fails the build on its non-zero exit).
#   bench/chaos.sh [rows] [seed] [every-kind]        defaults: 200000 42 true   (1000000 works; it takes a while)
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B -q -Pchaos package -DskipTests -Dchaos.rows="${1:-200000}" -Dchaos.seed="${2:-42}" \
  -Dchaos.every-kind="${3:-true}"
