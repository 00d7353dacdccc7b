#!/usr/bin/env bash
# Another KLayout version beside the system's: a Debian root (trixie: KLayout 0.30.0) made once
# with mmdebstrap and cached, run through chroot by two small wrappers, `klayout` and `strmxor`,
# written next to the root. The paths lyipc uses (/tmp, the checkout, the folders given with
# --bind) are bind-mounted at the same places inside the root, with /dev and /proc, so the
# wrapped KLayout sees the same files under the same names. Prints `KLAYOUT=/path/to/klayout`.
# Safe to run again: an existing root is reused and mounts that are up are left alone.
set -euo pipefail

checkout=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<EOF
usage: scripts/klayout-root.sh [--suite SUITE] [--root DIR] [--bind DIR]... [--umount]

Makes (once) a Debian root with another KLayout, mounts what it needs, writes the wrappers
DIR/../bin/klayout and DIR/../bin/strmxor and prints KLAYOUT=... for lyipc (--klayout or \$KLAYOUT).

  --suite SUITE  Debian release to take KLayout from (default: trixie, KLayout 0.30.0)
  --root DIR     the root: reused if it holds /usr/bin/klayout, else made there
                 (default: \$LYIPC_KLAYOUT_ROOT, else
                 \${XDG_CACHE_HOME:-~/.cache}/lyipc/klayout-SUITE/root)
  --bind DIR     also mount DIR at the same path inside the root (the folders your layouts
                 are in, if not under /tmp or this checkout); repeatable
  --umount       unmount everything this script mounted under the root, and stop
  -h, --help     this text

Needs root (or sudo), chroot, and for the first run mmdebstrap (installed with apt-get if
missing) and access to the Debian archive: about 2 minutes and 770 MB.
Example:  export "\$(scripts/klayout-root.sh)" && npx lyipc-diff a.gds b.gds
EOF
}

fail() {
	echo "klayout-root: $*" >&2
	exit 2
}

suite=trixie
root="${LYIPC_KLAYOUT_ROOT:-}"
binds=()
umount_only=false
while [ $# -gt 0 ]; do
	case "$1" in
		--suite) [ $# -ge 2 ] || fail "--suite needs a value"; suite=$2; shift ;;
		--suite=*) suite=${1#*=} ;;
		--root) [ $# -ge 2 ] || fail "--root needs a value"; root=$2; shift ;;
		--root=*) root=${1#*=} ;;
		--bind) [ $# -ge 2 ] || fail "--bind needs a value"; binds+=("$2"); shift ;;
		--bind=*) binds+=("${1#*=}") ;;
		--umount) umount_only=true ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; fail "unknown option $1" ;;
	esac
	shift
done
case "$suite" in
	'' | *[!a-z0-9-]*) fail "--suite $suite: expected a Debian release name such as trixie" ;;
esac
for dir in "${binds[@]}"; do
	[ -d "$dir" ] || fail "--bind $dir: not a folder"
done
if [ -z "$root" ]; then
	root="${XDG_CACHE_HOME:-$HOME/.cache}/lyipc/klayout-$suite/root"
fi
root=$(realpath -m -- "$root")
[ "$root" != / ] || fail "--root /: the root must be a folder of its own"
case "$root" in *"'"*) fail "--root $root: a path with a single quote is not supported" ;; esac
home=$(dirname "$root")

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || fail "chroot and mount need root: run this as root, or install sudo"
	sudo -n true 2>/dev/null || echo "klayout-root: running chroot, mount and apt-get with sudo" >&2
	sudo="sudo"
fi

# Every mount point inside the root, whoever made it.
mounted_points() {
	findmnt -rn -o TARGET | while IFS= read -r target; do
		case "$target" in "$root"/*) printf '%s\n' "$target" ;; esac
	done
}

if $umount_only; then
	# Deepest first; -l so a KLayout still running inside does not keep a mount forever.
	mounted_points | sort -r | while IFS= read -r target; do
		$sudo umount -l "$target" || fail "could not unmount $target"
	done
	echo "klayout-root: nothing mounted under $root any more" >&2
	exit 0
fi

if [ ! -x "$root/usr/bin/klayout" ]; then
	if [ -e "$root" ] && [ -n "$(ls -A "$root" 2>/dev/null)" ]; then
		fail "$root exists but holds no usr/bin/klayout (a failed build?): remove it or give another --root"
	fi
	if ! command -v mmdebstrap >/dev/null 2>&1; then
		echo "klayout-root: installing mmdebstrap with apt-get" >&2
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
			fail "could not install mmdebstrap with apt-get (run apt-get update first?)"
	fi
	mkdir -p "$home"
	log="$home/mmdebstrap.log"
	partial="$root.partial"
	rm -rf "$partial"
	echo "klayout-root: making a Debian $suite root with KLayout in $root (about 2 minutes, 770 MB; log: $log)" >&2
	# xauth: KLayout's GUI under xvfb-run inside the root.
	if ! $sudo mmdebstrap --variant=apt --include=klayout,xauth "$suite" "$partial" >"$log" 2>&1; then
		$sudo rm -rf "$partial"
		tail -n 5 "$log" >&2
		fail "mmdebstrap failed (is the Debian archive reachable, is '$suite' a Debian release?); see $log"
	fi
	$sudo mv "$partial" "$root"
fi

# Same path inside as outside: lyipc hands KLayout absolute paths of inputs, outputs, its
# Python scripts and temporary folders, and the viewer tests' X socket is in /tmp/.X11-unix.
mount_bind() {
	local source=$1 target="$root$1"
	[ -d "$source" ] || fail "--bind $source: not a folder"
	if mountpoint -q "$target"; then
		return
	fi
	# Under /tmp (mounted as a whole) it is there already; a mount of its own would sit on the
	# same folder outside too, which could then not be removed while the root is up.
	case "$source" in /tmp/*) return ;; esac
	$sudo mkdir -p "$target"
	$sudo mount --bind "$source" "$target" || fail "could not bind-mount $source into $root"
}

mount_bind /dev
mount_bind /tmp
mount_bind "$checkout"
for dir in "${binds[@]}"; do
	mount_bind "$(realpath -- "$dir")"
done
if ! mountpoint -q "$root/proc"; then
	$sudo mount -t proc proc "$root/proc" || fail "could not mount proc on $root/proc"
fi
# /dev's own mounts: Qt and Python use shared memory (/dev/shm), terminals /dev/pts.
for sub in /dev/shm /dev/pts; do
	if mountpoint -q "$sub" && ! mountpoint -q "$root$sub"; then
		$sudo mount --bind "$sub" "$root$sub" || fail "could not bind-mount $sub into $root"
	fi
done

# The wrappers run as root (chroot needs it) in the caller's folder, which must be mounted.
# Their folder is mounted in the root too, and there they run the tool directly: a script
# run by the wrapped KLayout may be handed the wrapper's path (the property test's strmxor).
bin="$home/bin"
mkdir -p "$bin"
printf '%s\n' "$root" | $sudo tee "$root/etc/lyipc-klayout-root" >/dev/null
write_wrapper() {
	local name=$1 command=$2 tmp
	tmp=$(mktemp "$bin/$name.XXXXXX")
	cat >"$tmp" <<EOF
#!/bin/sh
# $command inside $root (Debian $suite), made by lyipc's scripts/klayout-root.sh.
root='$root'
if [ "\$(cat /etc/lyipc-klayout-root 2>/dev/null)" = "\$root" ]; then
	$command "\$@"
fi
if [ "\$(id -u)" -ne 0 ]; then
	echo "$name: chroot needs root; run lyipc as root (or under sudo) to use the KLayout in $root" >&2
	exit 126
fi
if [ ! -e "\$root/proc/self" ]; then
	echo "$name: $root is not mounted; run $checkout/scripts/klayout-root.sh --root $root" >&2
	exit 127
fi
exec chroot "\$root" /bin/sh -c 'cd "\$0" 2>/dev/null || { echo "$name: the folder \$0 is not mounted in $root; add it with scripts/klayout-root.sh --bind DIR" >&2; exit 127; }; $command "\$@"' "\$(pwd)" "\$@"
EOF
	chmod 755 "$tmp"
	mv "$tmp" "$bin/$name"
}
write_wrapper klayout 'exec /usr/bin/klayout'
# The buddy tools need KLayout's private libraries (Debian's /usr/bin/klayout sets the same).
write_wrapper strmxor 'LD_LIBRARY_PATH=/usr/lib/klayout exec /usr/lib/klayout/strmxor'
mount_bind "$bin"

version=$(cd /tmp && "$bin/klayout" -b -v 2>&1) || fail "the KLayout in $root does not start: $version"
echo "klayout-root: $version in $root; unmount with: scripts/klayout-root.sh --root $root --umount" >&2
echo "KLAYOUT=$bin/klayout"
