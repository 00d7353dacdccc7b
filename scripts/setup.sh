#!/usr/bin/env bash
# Sets lyipc up on Debian/Ubuntu: KLayout from the distribution's packages, the npm
# dependencies, and the build in dist/. With --tests also what the tests drive: Xvfb and
# xdotool (the viewer tests' headless KLayout GUI and the key presses they make in it),
# Chromium (the HTML report is opened in it), cmark-gfm (the Markdown report is rendered as
# GitHub renders it), and OpenSSH's server and client with rsync (the
# remote tests run a real sshd on loopback), procps (the warm worker's tests look for its
# processes with pgrep), pyflakes (npm test checks the Python with it), and Slurm's slurmctld,
# slurmd, client and munge (the --slurm tests start a one-node cluster on loopback; they are
# not started as services), and KLayout 0.30.0 in a Debian 13 root (scripts/klayout-root.sh;
# the tests run on both versions; not with LYIPC_TEST_SKIP_KLAYOUT_030=1). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=false
for arg in "$@"; do
	case "$arg" in
		--tests) tests=true ;;
		*) echo "setup: unknown option $arg (usage: scripts/setup.sh [--tests])" >&2; exit 2 ;;
	esac
done

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
if $tests; then
	command -v Xvfb >/dev/null 2>&1 || missing="$missing xvfb"
	command -v xdotool >/dev/null 2>&1 || missing="$missing xdotool"
	command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
	command -v cmark-gfm >/dev/null 2>&1 || missing="$missing cmark-gfm"
	[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
	command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
	command -v rsync >/dev/null 2>&1 || missing="$missing rsync"
	command -v pgrep >/dev/null 2>&1 || missing="$missing procps"
	command -v pyflakes3 >/dev/null 2>&1 || missing="$missing python3-pyflakes"
	[ -x /usr/sbin/slurmctld ] || missing="$missing slurmctld"
	[ -x /usr/sbin/slurmd ] || missing="$missing slurmd"
	command -v srun >/dev/null 2>&1 || missing="$missing slurm-client"
	[ -x /usr/sbin/munged ] || missing="$missing munge"
fi
if [ -n "$missing" ]; then
	echo "setup: installing$missing with apt-get"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
echo "setup: $(klayout -v)"

# npm ci also builds dist/: it runs the package's prepare script, the build (unless npm is set
# to ignore scripts: then it is built here).
npm ci --no-audit --no-fund
[ -f dist/src/cli/lyipc-diff.js ] || npm run build

# The tests also run on KLayout 0.30.0 (scripts/test.sh): its Debian 13 root, made once and
# cached (about 2 minutes and 770 MB the first time).
if $tests && [ "${LYIPC_TEST_SKIP_KLAYOUT_030:-}" != 1 ]; then
	echo "setup: KLayout 0.30.0 for the tests: $(scripts/klayout-root.sh)"
fi
