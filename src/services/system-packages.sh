#!/usr/bin/env bash
# Installs, with apt, the system programs the native service launcher and the tests need and this
# machine lacks: Java and Maven (Kafka from Maven Central), redis-server, PostgreSQL, and Chromium
# with a font (the grid's browser tests drive Debian's chromium through playwright-core).
# Does nothing when all are present. Used by .ci/run; safe to run by hand (as root).
set -euo pipefail

have_pg() { command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; }

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v redis-server >/dev/null || need+=(redis-server)
have_pg || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need+=(fonts-dejavu-core)
command -v promtool >/dev/null || need+=(prometheus) # promtool: .ci/run checks ops/prometheus/alerts.yml

if ((${#need[@]} == 0)); then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing system packages: ${need[*]} — install them (sudo apt-get install ${need[*]}) or run 'docker compose up -d'" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
