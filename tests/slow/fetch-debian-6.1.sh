#!/usr/bin/env bash
# The real thing: Debian's linux-source-6.1 repackaged as linux-6.1.192.tar.xz
# on the local mirror, fetched, verified and extracted by acso; then the same
# from the cache; then `--source distro` from the installed package.
. "$(dirname "$0")/../lib.sh"
M=$TOP/tests/mirror
t_ok "make-mirror --with-debian-6.1" "$M/make-mirror" "$T/m" --with-debian-6.1
read -r port pid < <("$M/serve" "$T/m"); t_track_pid "$pid"
W=$T/w
t_exit 0 "fetch 6.1.192 from the local mirror" "$ACSO" --work-dir "$W" fetch --keyring "$T/m/keyring.asc" \
	--mirror "http://127.0.0.1:$port" --json 6.1.192
cp "$T/.out" "$T/f.json"
t_ok "verified by both signers" jq -e '.signers | length == 2' "$T/f.json"
t_ok "the top directory linux-source-6.1 was stripped" jq -e '.top_dir == "linux-source-6.1"' "$T/f.json"
t_grep "the tree is 6.1.192" '^SUBLEVEL = 192$' "$W/src/linux-6.1.192/Makefile"
t_ok "the tree has drivers/pci/quirks.c" test -f "$W/src/linux-6.1.192/drivers/pci/quirks.c"
t_ok "as many entries as tar lists" test "$(jq .entries "$T/f.json")" -gt 80000
t_exit 0 "again, from the cached tarball" "$ACSO" --work-dir "$W" fetch --keyring "$T/m/keyring.asc" \
	--mirror "http://127.0.0.1:$port" --json 6.1.192
t_ok "... with no download" jq -e '.from_cache == true' "$T/.out"
rm -rf "$W"
t_exit 0 "--source distro from the installed linux-source-6.1" "$ACSO" --work-dir "$T/d" fetch \
	--keyring "$T/m/keyring.asc" --source distro --json 6.1
t_ok "... is the 6.1.192 tree with Debian's patches" jq -e '.version == "6.1.192" and .source == "distro"' "$T/.out"
t_ok "... in src/linux-6.1.192-distro" test -f "$T/d/src/linux-6.1.192-distro/Makefile"
t_done
