#!/usr/bin/env bash
# npm test's test run, after the build, typecheck and lint: every test file on the KLayout on
# PATH (Debian 12's 0.28.5) and, at the same time, the files whose tests run lyipc's Python
# inside KLayout (worker, engine, XOR, suite, property and viewer tests) on KLayout 0.30.0 from
# the root scripts/klayout-root.sh makes: users run both, and the worker's Python, the readers
# and the GUI differ between them. The second run's output follows the first's.
# CI tests both. Elsewhere LYIPC_TEST_SKIP_KLAYOUT_030=1 tests the KLayout on PATH only, and says so.
set -uo pipefail
cd "$(dirname "$0")/.."

on_second=(test/engine test/xor test/suite test/viewer test/scripts/klayout-root.test.ts)

if [ "${LYIPC_TEST_SKIP_KLAYOUT_030:-}" = 1 ]; then
	if [ "${CI:-}" = true ]; then
		echo "test: LYIPC_TEST_SKIP_KLAYOUT_030=1 is refused in CI: CI tests both KLayout versions" >&2
		exit 2
	fi
	echo "test: KLayout 0.30.0 is not tested (LYIPC_TEST_SKIP_KLAYOUT_030=1); only the KLayout on PATH"
	exec npx vitest run "$@"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "test: KLayout 0.30.0 runs through chroot, which needs root: run npm test as root," >&2
	echo "      or LYIPC_TEST_SKIP_KLAYOUT_030=1 npm test to test the KLayout on PATH only." >&2
	exit 2
fi
if ! line=$(scripts/klayout-root.sh); then
	echo "test: no KLayout 0.30.0 to test on (scripts/klayout-root.sh failed, above)." >&2
	echo "      LYIPC_TEST_SKIP_KLAYOUT_030=1 npm test tests the KLayout on PATH only." >&2
	exit 2
fi
second="${line#KLAYOUT=}"

log=$(mktemp "${TMPDIR:-/tmp}/lyipc-test-second-XXXXXX")
trap 'rm -f "$log"' EXIT
KLAYOUT="$second" npx vitest run "${on_second[@]}" >"$log" 2>&1 &
second_pid=$!
npx vitest run "$@"
first_status=$?
wait "$second_pid"
second_status=$?

echo
echo "test: the same files on KLayout 0.30.0 ($second): ${on_second[*]}"
cat "$log"
echo "test: KLayout on PATH: $([ $first_status -eq 0 ] && echo passed || echo FAILED); KLayout 0.30.0: $([ $second_status -eq 0 ] && echo passed || echo FAILED)"
[ $first_status -eq 0 ] && [ $second_status -eq 0 ]
