#!/usr/bin/env bash
# acso config with real `make olddefconfig` on Kconfig-only trees of several
# kernel series and real distribution configs: every series × config pair
# users meet (the series acso picks for that distro). For each pair: exit 0,
# the override's settings on, and issue 18's rules — debug info and BTF off
# on every series, a base's built-in VFIO stays built in, the IOMMU of both
# vendors and interrupt remapping on, module compression and module signing
# (with the build's own key) kept, the report's changes on purpose first.
#
# The data: tests/data/kconfig-series/ (README.md there names each source).
# ACSO_SERIES_DATA=DIR runs the same checks on another data dir of the same
# shape (trees/SERIES.tar.xz, configs/NAME.xz, pairs).
. "$(dirname "$0")/../lib.sh"

DATA=${ACSO_SERIES_DATA:-$TOP/tests/data/kconfig-series}
start=$(date +%s)
mkdir -p "$T/trees"

# y when .config says so, else what it says ("" when not mentioned)
val() { sed -n "s/^CONFIG_$2=//p" "$1" | tail -1; }

check_pair() { # SERIES CONFIG
	local s=$1 c=$2 k=$T/trees/$1 base=$T/$2.config out=$T/$1-$2
	xz -dc "$DATA/configs/$c.xz" >"$base"
	rm -f "$k/.config" "$k/.config.acso-bak"
	if ! "$ACSO" --work-dir "$T/work" config --source-dir "$k" --base "$base" --no-compile-check --json \
		>"$out.json" 2>"$out.err"; then
		t_fail "$s × $c: exit 0" "$(tail -5 "$out.err")"
		return
	fi
	t_pass "$s × $c: exit 0"
	local fin=$k/.config bad=()
	jq -e '.required_ok' "$out.json" >/dev/null || bad+=("required_ok is false")
	[ "$(val "$fin" PCI_QUIRKS)" = y ] || bad+=("PCI_QUIRKS not y")
	[ "$(val "$fin" PCI_MMCONFIG)" = y ] || bad+=("PCI_MMCONFIG not y")
	case "$(val "$fin" VFIO_PCI)" in y | m) ;; *) bad+=("VFIO_PCI off") ;; esac
	case "$(val "$fin" SYSTEM_TRUSTED_KEYS)" in '""' | '') ;; *) bad+=("SYSTEM_TRUSTED_KEYS kept") ;; esac
	# debug info off, before and after 5.18
	[ "$(val "$fin" DEBUG_INFO)" != y ] || bad+=("DEBUG_INFO still y")
	[ "$(val "$fin" DEBUG_INFO_BTF)" != y ] || bad+=("DEBUG_INFO_BTF still y")
	# at least m: what the base built in stays built in
	local sym
	for sym in VFIO VFIO_PCI VFIO_IOMMU_TYPE1; do
		[ "$(val "$base" $sym)" != y ] || [ "$(val "$fin" $sym)" = y ] || bad+=("$sym demoted from y")
	done
	for sym in INTEL_IOMMU AMD_IOMMU IRQ_REMAP; do
		[ "$(val "$fin" $sym)" = y ] || bad+=("$sym not y")
	done
	# module compression kept
	for sym in MODULE_COMPRESS_GZIP MODULE_COMPRESS_XZ MODULE_COMPRESS_ZSTD; do
		[ "$(val "$base" $sym)" != y ] || [ "$(val "$fin" $sym)" = y ] || bad+=("$sym dropped")
	done
	# module signing kept, with the build's own key
	if [ "$(val "$base" MODULE_SIG)" = y ]; then
		[ "$(val "$fin" MODULE_SIG_ALL)" = y ] || bad+=("MODULE_SIG_ALL not y")
		[ "$(val "$fin" MODULE_SIG_KEY)" = '"certs/signing_key.pem"' ] || bad+=("MODULE_SIG_KEY not the build's own")
	fi
	# no requested setting that this series knows was lost
	jq -e '[.requested[] | select(.status == "changed")] | length == 0' "$out.json" >/dev/null ||
		bad+=("lost: $(jq -r '[.requested[] | select(.status == "changed") | .symbol] | join(" ")' "$out.json")")
	if [ ${#bad[@]} = 0 ]; then t_pass "$s × $c: the rules hold"; else t_fail "$s × $c: the rules hold" "${bad[@]}"; fi
}

[ -f "$DATA/pairs" ] || { t_fail "data: $DATA/pairs"; t_done; }
while read -r s c; do
	case "$s" in '' | '#'*) continue ;; esac
	if [ ! -d "$T/trees/$s" ]; then
		mkdir -p "$T/trees/$s"
		tar -xJf "$DATA/trees/$s.tar.xz" -C "$T/trees/$s"
	fi
	check_pair "$s" "$c"
done <"$DATA/pairs"

# The text report of one pair puts the changes made on purpose first.
first=$(awk '!/^#/ && NF {print; exit}' "$DATA/pairs")
s=${first% *} c=${first#* }
rm -f "$T/trees/$s/.config"
"$ACSO" --work-dir "$T/work" config --source-dir "$T/trees/$s" --base "$T/$c.config" --no-compile-check >"$T/text" 2>"$T/text.err"
[ "$(sed -n 4p "$T/text")" = "on purpose:" ] && t_pass "text: changes on purpose first" ||
	t_fail "text: changes on purpose first" "$(head -6 "$T/text")"
t_grep "text: the rest counted, listed with -v" "^other changes by make olddefconfig: [0-9]+ \(-v or --json for all\)$" "$T/text"
echo "# $(grep -cv '^#' "$DATA/pairs") pairs in $(($(date +%s) - start)) s"
t_done
