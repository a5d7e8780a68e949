#!/usr/bin/env bash
# scripts/bench.d/40-rebuild.sh — what ccache saves when `acso run --update`
# rebuilds the next point release with the previous build's configuration.
#
# On Debian's linux-source-6.1 (6.1.192) with the qemu profile:
#   1. `acso build --ccache` of 6.1.192 with a cold, empty cache (the first
#      build of `acso run`, which compiles through ccache when installed);
#   2. the "next point release": a second tree of the same source beside the
#      first, SUBLEVEL bumped to 193 and a handful of compiled files changed
#      as a stable release changes them, configured from the first build's
#      .config (make olddefconfig, as `acso config --base FILE` does) —
#      `acso build --ccache` with the warm cache;
#   3. the same rebuild without ccache, from a clean tree.
# Prints the times, ccache's hits and misses of the rebuild, and the ratio
# (3)/(2). Both trees sit in one directory, the CCACHE_BASEDIR acso sets.
#
# Env: ACSO (default ./acso), BENCH_DIR (scratch, default a temp dir, removed
# at the end). Needs linux-source-6.1 and ccache. Not in CI (minutes of
# kernel builds): run it under the machine's heavy-job lock.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ACSO=${ACSO:-$top/acso}
command -v ccache >/dev/null || { echo "rebuild: ccache is not installed (apt-get install ccache)" >&2; exit 1; }
own=0
if [ -z "${BENCH_DIR:-}" ]; then BENCH_DIR=$(mktemp -d /var/tmp/acso-bench.XXXXXX); own=1; fi
cleanup() { [ $own = 1 ] && rm -rf "$BENCH_DIR"; return 0; }
trap cleanup EXIT
trees=$BENCH_DIR/trees
a=$trees/linux-6.1.192 b=$trees/linux-6.1.193
mkdir -p "$trees"
rm -rf "$a" "$b" "$trees/linux-source-6.1"
tar -C "$trees" -xJf /usr/src/linux-source-6.1.tar.xz
mv "$trees/linux-source-6.1" "$a"
(cd "$a" && make -s tinyconfig && ./scripts/kconfig/merge_config.sh -m .config "$top/kconfig/qemu.config" &&
	make -s olddefconfig) >/dev/null 2>&1
cp -a "$a" "$b"
# A point release: the version, and a few files the qemu build compiles.
sed -i 's/^SUBLEVEL = 192$/SUBLEVEL = 193/' "$b/Makefile"
changed=(kernel/fork.c kernel/sched/core.c mm/memory.c fs/namei.c drivers/pci/quirks.c drivers/pci/probe.c lib/string.c init/main.c)
for f in "${changed[@]}"; do
	printf '\n/* 6.1.193 */\nint __attribute__((unused)) acso_bench_%s;\n' "$(echo "$f" | tr '/.' '__')" >>"$b/$f"
done

export CCACHE_DIR=$BENCH_DIR/ccache
rm -rf "$CCACHE_DIR"
now() { date +%s.%N; }
build() { # build TREE NAME [--ccache]: seconds of acso build
	local t0 t1
	t0=$(now)
	nice "$ACSO" --work-dir "$BENCH_DIR/work" -q build --allow-root --jobs 2 --source-dir "$1" "${@:3}" --json \
		>"$BENCH_DIR/$2.json" 2>"$BENCH_DIR/$2.err" || { echo "rebuild: acso build ($2) failed:" >&2; tail -5 "$BENCH_DIR/$2.err" >&2; exit 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc
}
ccstat() { ccache --print-stats | awk -v k="$1" '$1 == k {print $2}'; }

cold=$(build "$a" cold --ccache)
printf 'first build of 6.1.192, cold ccache: %.1f s (%s objects)\n' "$cold" "$(jq -r .objects "$BENCH_DIR/cold.json")"
cp "$a/.config" "$b/.config" # the previous build's own .config
(cd "$b" && make -s olddefconfig) >/dev/null 2>&1
ccache -z >/dev/null
warm=$(build "$b" warm --ccache)
hits=$(($(ccstat direct_cache_hit) + $(ccstat preprocessed_cache_hit)))
miss=$(ccstat cache_miss)
printf 'rebuild of 6.1.193, warm ccache: %.1f s (ccache: %s hits, %s misses; %d files changed)\n' "$warm" "$hits" "$miss" "${#changed[@]}"
(cd "$b" && make -s distclean && cp "$a/.config" .config && make -s olddefconfig) >/dev/null 2>&1
plain=$(build "$b" plain)
printf 'rebuild of 6.1.193, no ccache: %.1f s\n' "$plain"
printf 'rebuild: no ccache / warm ccache = %s; first build with a cold ccache / no ccache = %s\n' \
	"$(echo "scale=2; $plain / $warm" | bc)" "$(echo "scale=3; $cold / $plain" | bc)"
