#!/usr/bin/env bash
# Sets lyipc up on Debian/Ubuntu: KLayout from the distribution's packages, the npm
# dependencies, and the build in dist/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
	echo "setup: lyipc needs Node.js >= 20 with npm (found: $(node --version 2>/dev/null || echo none))." >&2
	echo "       Install it from https://nodejs.org (or: nvm install 20), then run this again." >&2
	exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi

if ! command -v klayout >/dev/null 2>&1; then
	echo "setup: installing KLayout with apt-get"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq klayout >/dev/null
fi
echo "setup: $(klayout -v)"

npm ci --no-audit --no-fund
npm run build
