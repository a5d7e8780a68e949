#!/usr/bin/env bash
# The local test mirror itself (tests/mirror/): make-mirror builds a signed
# kernel.org-shaped tree that GnuPG agrees with, serve answers Range requests,
# hostile-server produces its behaviours. Other tests rely on all of this.
. "$(dirname "$0")/../lib.sh"
M=$TOP/tests/mirror
t_ok "make-mirror builds a mirror" "$M/make-mirror" "$T/m"
K=$T/m/keyring.gpg v=$T/m/pub/linux/kernel/v6.x
gv() { xz -dc "$1.tar.xz" | gpgv --keyring "$K" "$1.tar.sign" - >/dev/null 2>&1; }
t_ok "6.6.5 .tar.sign is good over the uncompressed tar" gv "$v/linux-6.6.5"
t_ok "sha256sums.asc is good" gpgv --keyring "$K" "$v/sha256sums.asc"
t_ok "sha256sums.asc lists the tarballs" bash -c "cd '$v' && gpgv --keyring '$K' -o - sha256sums.asc 2>/dev/null | sha256sum -c --quiet"
t_grep "releases.json names the longterm series" '"moniker": "longterm"' "$T/m/releases.json"
for c in otherdata unknownkey badcrc truncsig; do
	if gv "$T/m/hostile/$c/pub/linux/kernel/v6.x/linux-6.6.5"; then t_fail "hostile $c does not verify"; else t_pass "hostile $c does not verify"; fi
done
if gpgv --keyring "$K" "$T/m/hostile/sums-tampered/pub/linux/kernel/v6.x/sha256sums.asc" 2>/dev/null; then
	t_fail "sums-tampered is BAD"; else t_pass "sums-tampered is BAD"; fi
read -r port pid < <("$M/serve" "$T/m")
t_track_pid "$pid"
t_ok "lighttpd serves releases.json" curl -sf -o "$T/r.json" "http://127.0.0.1:$port/releases.json"
t_ok "served releases.json is the file" cmp "$T/r.json" "$T/m/releases.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -r 5-9 "http://127.0.0.1:$port/releases.json")
[ "$code" = 206 ] && t_pass "lighttpd honours Range" || t_fail "lighttpd honours Range" "got $code"
read -r hport hpid < <("$M/hostile-server" "$T/m")
t_track_pid "$hpid"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/status/500/releases.json")
[ "$code" = 500 ] && t_pass "hostile-server answers 500" || t_fail "hostile-server answers 500" "got $code"
cp "$T/m/pub/linux/kernel/v6.x/linux-6.6.5.tar.xz" "$T/m/c.tar.xz"
curl -s -o "$T/cut" "http://127.0.0.1:$hport/cut/c.tar.xz"
if cmp -s "$T/cut" "$T/m/c.tar.xz"; then t_fail "cut delivers half first"; else t_pass "cut delivers half first"; fi
t_ok "cut resumes with Range" curl -sf -C - -o "$T/cut" "http://127.0.0.1:$hport/cut/c.tar.xz"
t_ok "resumed file is whole" cmp "$T/cut" "$T/m/c.tar.xz"
t_done
