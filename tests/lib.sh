# tests/lib.sh — helpers for the shell integration tests. Source it first.
#
# Every test gets a private temp dir ($T) and HOME, never reads the host's
# acso config, and cleans up on every exit path: the processes it started
# (by pid), mounts and loop devices it registered, and $T.
# Results are TAP lines: "ok N - name" / "not ok N - name".
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ACSO=${ACSO:-$TOP/acso}
FIXTURES=$TOP/tests/fixtures
GOLDEN=$TOP/tests/golden
T=$(mktemp -d "${TMPDIR:-/tmp}/acso-test.XXXXXX")
# Children's temp files (acso grub's scratch trees, mktemp in stubs) go under
# $T too, so what a process killed with SIGKILL leaves is removed with $T.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR" && chmod 1777 "$TMPDIR" # as /tmp: tests also run children as nobody
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache
mkdir -p "$HOME"
export NO_COLOR=1
_tn=0
_tfail=0
_pids=()
_cleanups=()

# Register a pid to kill at exit (only processes this test started).
t_track_pid() { _pids+=("$1"); }
# Register a command string to eval at exit (umount, losetup -d, ...), run in reverse order.
t_on_exit() { _cleanups+=("$1"); }

_t_cleanup() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" >/dev/null 2>&1 || true; done
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap _t_cleanup EXIT
trap 'exit 130' INT TERM

t_pass() { _tn=$((_tn + 1)); echo "ok $_tn - $1"; }
t_fail() {
	_tn=$((_tn + 1)); _tfail=$((_tfail + 1))
	echo "not ok $_tn - $1"
	shift
	[ $# -gt 0 ] && printf '# %s\n' "$@"
	return 0
}

# t_ok NAME CMD... — pass when CMD exits 0.
t_ok() {
	local name=$1; shift
	if "$@" >"$T/.out" 2>&1; then t_pass "$name"; else t_fail "$name" "command failed: $*" "$(tail -5 "$T/.out")"; fi
}

# t_jq NAME [jq options...] FILTER FILE — pass when jq -e FILTER holds for
# FILE, which must not be empty. $T/.out is left as it is, so several checks
# can read one command's output (t_ok would truncate it before jq reads it,
# and jq -e on empty input exits 0).
t_jq() {
	local name=$1; shift
	local file=${!#}
	if [ ! -s "$file" ]; then t_fail "$name" "'$file' is empty"; return; fi
	if jq -e "$@" >"$T/.jq" 2>&1; then t_pass "$name"; else t_fail "$name" "jq -e $*" "$(head -c 600 "$file")"; fi
}

# t_exit CODE NAME CMD... — pass when CMD exits with CODE. Output kept in $T/.out.
t_exit() {
	local want=$1 name=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then t_pass "$name"; else
		t_fail "$name" "expected exit $want, got $rc: $*" "$(tail -5 "$T/.err")"
	fi
}

# t_grep NAME PATTERN FILE — pass when FILE has a line matching PATTERN (grep -E).
t_grep() {
	if grep -qE -- "$2" "$3"; then t_pass "$1"; else t_fail "$1" "no line matches '$2' in $3" "$(head -20 "$3")"; fi
}
t_nogrep() {
	if ! grep -qE -- "$2" "$3"; then t_pass "$1"; else t_fail "$1" "unexpected line matching '$2' in $3" "$(grep -E -- "$2" "$3" | head -5)"; fi
}

# t_grub_cfg FILE ID RELEASE... — a grub.cfg as Debian's grub-mkconfig writes
# it: the simple entry, then the advanced submenu with an entry per RELEASE.
t_grub_cfg() {
	local f=$1 id=$2 r
	shift 2
	mkdir -p "$(dirname "$f")"
	{
		printf "menuentry 'Debian GNU/Linux' --class debian \$menuentry_id_option 'gnulinux-simple-%s' {\n}\n" "$id"
		printf "submenu 'Advanced options for Debian GNU/Linux' \$menuentry_id_option 'gnulinux-advanced-%s' {\n" "$id"
		for r; do
			printf "\tmenuentry 'Debian GNU/Linux, with Linux %s' --class debian \$menuentry_id_option 'gnulinux-%s-advanced-%s' {\n\t}\n" "$r" "$r" "$id"
		done
		echo "}"
	} >"$f"
}

# t_grub_root DIR — a throwaway root with the Debian 12 GRUB files of the
# corpus (tests/grub-corpus/debian-12), an Intel CPU and an update-grub.
t_grub_root() {
	rm -rf "$1"
	mkdir -p "$1/proc" "$1/usr/sbin"
	cp -a "$TOP/tests/grub-corpus/debian-12/." "$1/"
	printf 'vendor_id\t: GenuineIntel\n' >"$1/proc/cpuinfo"
	touch "$1/usr/sbin/update-grub"
}

# t_as_sudo_nobody — sudo's view of the unprivileged account nobody (uid
# 65534: no account is added, /etc is not touched): sets U, UID_U, GID_U,
# SUDO (env as sudo leaves it) and AS_USER (run as that user, no sudo).
t_as_sudo_nobody() {
	U=nobody
	UID_U=$(id -u "$U")
	GID_U=$(id -g "$U")
	SUDO=(env SUDO_USER=$U SUDO_UID=$UID_U SUDO_GID=$GID_U)
	AS_USER=(setpriv --reuid="$UID_U" --regid="$GID_U" --clear-groups env HOME=/nonexistent)
}

# t_golden NAME GOLDENFILE ACTUALFILE — compare; UPDATE_GOLDEN=1 rewrites.
t_golden() {
	local name=$1 gold=$GOLDEN/$2 actual=$3
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		mkdir -p "$(dirname "$gold")"
		cp "$actual" "$gold"
	fi
	if diff -u "$gold" "$actual" >"$T/.diff" 2>&1; then t_pass "$name"; else
		t_fail "$name" "output differs from $2 (UPDATE_GOLDEN=1 to accept)" "$(head -30 "$T/.diff")"
	fi
}

# t_stub_chroot — a chroot first on PATH that records its argv in $T/calls
# and fails (exit 100) while $T/fail exists: boot-loader and initramfs
# commands acso runs in a --root are checked without running them.
t_stub_chroot() {
	mkdir -p "$T/bin"
	cat >"$T/bin/chroot" <<EOF2
#!/bin/sh
echo "\$*" >>"$T/calls"
[ -e "$T/fail" ] && exit 100
exit 0
EOF2
	chmod +x "$T/bin/chroot"
	export PATH=$T/bin:$PATH
}

# A free TCP port on 127.0.0.1.
t_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# t_mirror DIR — make-mirror DIR, then serve it with lighttpd and with
# hostile-server (both stopped at exit): sets U and H (their URLs) and K (the
# mirror's keyring).
t_mirror() {
	"$TOP/tests/mirror/make-mirror" "$1" >/dev/null 2>&1 || { t_fail "make-mirror"; t_done; }
	local p pid
	read -r p pid < <("$TOP/tests/mirror/serve" "$1"); t_track_pid "$pid"; U=http://127.0.0.1:$p
	read -r p pid < <("$TOP/tests/mirror/hostile-server" "$1"); t_track_pid "$pid"; H=http://127.0.0.1:$p
	K=$1/keyring.asc
}

# Call at the end of every test file.
t_done() { exit $((_tfail > 0)); }
