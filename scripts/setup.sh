#!/usr/bin/env bash
# Sets lyipc up on Debian/Ubuntu: KLayout (and Xvfb and xdotool, for the viewer tests' headless
# KLayout GUI and the key presses they make in it) from the distribution's packages, the npm dependencies, and the build in dist/.
# Safe to run again.
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

missing=""
command -v klayout >/dev/null 2>&1 || missing="$missing klayout"
command -v Xvfb >/dev/null 2>&1 || missing="$missing xvfb"
command -v xdotool >/dev/null 2>&1 || missing="$missing xdotool"
if [ -n "$missing" ]; then
	echo "setup: installing$missing with apt-get"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
echo "setup: $(klayout -v)"

npm ci --no-audit --no-fund
npm run build
