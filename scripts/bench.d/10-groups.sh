#!/usr/bin/env bash
# Bench: `acso groups` against the seed's shell loop (SEED-GUIDE.md step 3:
# one `lspci -nns` per device), both pointed at the seed machine fixture
# (lspci through -A linux-sysfs -O sysfs.path=FIXTURE/sys/bus/pci), both
# with the same pci.ids. Prints the mean time of each and their ratio.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
acso=${ACSO:-$top/acso}
fx=$top/tests/fixtures/seed
ids=$top/tests/fixtures/pci.ids
runs=${BENCH_RUNS:-20}
command -v lspci >/dev/null || { echo "bench groups: lspci is not installed (scripts/install-deps)" >&2; exit 1; }
[ -x "$acso" ] || { echo "bench groups: $acso is not built (run make)" >&2; exit 1; }

seed_loop() {
	for d in "$fx"/sys/kernel/iommu_groups/*/devices/*; do
		n=${d#*/iommu_groups/*}; n=${n%%/*}
		printf 'IOMMU Group %s ' "$n"
		lspci -A linux-sysfs -O sysfs.path="$fx/sys/bus/pci" -i "$ids" -nns "${d##*/}"
	done
}
ours() { ACSO_PCI_IDS=$ids "$acso" groups --root "$fx" || [ $? = 3 ]; }

# Same work first: the loop must see the 32 devices acso lists.
n_seed=$(seed_loop | grep -c '^IOMMU Group')
n_acso=$(ours | grep -c '^  [0-9a-f][0-9a-f]:')
[ "$n_seed" = "$n_acso" ] || { echo "bench groups: device counts differ ($n_seed vs $n_acso)" >&2; exit 1; }

ms() { # ms FUNCTION — mean wall time of $runs runs, in ms
	local s e
	s=$(date +%s%N)
	for ((i = 0; i < runs; i++)); do "$1" >/dev/null; done
	e=$(date +%s%N)
	echo $(((e - s) / runs / 1000))
}
ours >/dev/null; seed_loop >/dev/null # warm caches
t_acso=$(ms ours)
t_seed=$(ms seed_loop)
awk -v a="$t_acso" -v s="$t_seed" -v n="$n_acso" -v r="$runs" 'BEGIN {
	printf "groups: acso groups %.2f ms, seed loop (%d x lspci -nns) %.2f ms, ratio %.1fx faster (mean of %d runs, seed fixture)\n",
	       a / 1000, n, s / 1000, (a > 0 ? s / a : 0), r }'
