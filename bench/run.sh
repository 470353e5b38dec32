#!/usr/bin/env bash
# Tributary benchmark on real embedded servers. Prints pipeline rows/s against a plain JDBC copy of the same rows
# (the ratio is the figure to compare across machines) and source-commit → primary-commit latency under paced load.
#   bench/run.sh [rows] [paced rates, comma-separated] [paced seconds]      defaults: 200000 1000,5000 30
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -Pbench package -DskipTests -Dbench.rows="${1:-200000}" -Dbench.rates="${2:-1000,5000}" -Dbench.seconds="${3:-30}"
