#!/usr/bin/env bash
# acso resolve: running kernels read through --root, given strings, the
# releases.json and series-directory paths, EOL + longterm, --offline, the
# ETag cache, and malformed input.
. "$(dirname "$0")/../lib.sh"
M=$TOP/tests/mirror
"$M/make-mirror" "$T/m" >/dev/null 2>&1 || { t_fail "make-mirror"; t_done; }
mkdir -p "$T/m/bad" "$T/m/trunc"
printf '{"releases": [{"version": "6.1", "moniker": "stable", "iseol": "maybe"}]}' >"$T/m/bad/releases.json"
head -c 300 "$T/m/releases.json" >"$T/m/trunc/releases.json"
read -r port pid < <("$M/serve" "$T/m"); t_track_pid "$pid"
read -r hport hpid < <("$M/hostile-server" "$T/m"); t_track_pid "$hpid"
U=http://127.0.0.1:$port H=http://127.0.0.1:$hport
R=("$ACSO" --work-dir "$T/w" resolve --retries 0 --timeout 3)

mkroot() { # mkroot DIR OSRELEASE VERSION [SIGNATURE]
	mkdir -p "$1/proc/sys/kernel"
	printf '%s\n' "$2" >"$1/proc/sys/kernel/osrelease"
	printf '%s\n' "$3" >"$1/proc/version"
	[ $# -ge 4 ] && printf '%s\n' "$4" >"$1/proc/version_signature"
	return 0
}
mkroot "$T/debian" 6.1.0-21-amd64 "Linux version 6.1.0-21-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)"
mkroot "$T/ubuntu" 5.4.0-42-generic "Linux version 5.4.0-42-generic (buildd@lgw01) #46-Ubuntu SMP" "Ubuntu 5.4.0-42.46-generic 5.4.44"

t_exit 0 "resolve a running Debian kernel" "${R[@]}" --root "$T/debian" --mirror "$U" --json
cp "$T/.out" "$T/deb.json"
t_ok "distro debian" jq -e '.distro == "debian" and .running == true' "$T/deb.json"
t_ok "upstream from uname -v" jq -e '.upstream == "6.1.90" and .upstream_from == "uname -v"' "$T/deb.json"
t_ok "target: the latest 6.1 point release" jq -e '.target == "6.1.192" and .target_from == "releases.json"' "$T/deb.json"
t_ok "tarball URL under the mirror" jq -e --arg u "$U/pub/linux/kernel/v6.x/linux-6.1.192.tar.xz" '.tarball_url == $u' "$T/deb.json"
t_ok "longterm, not eol" jq -e '.eol == false and .moniker == "longterm"' "$T/deb.json"

t_exit 0 "resolve a running Ubuntu kernel (series not in releases.json)" "${R[@]}" --root "$T/ubuntu" --mirror "$U" --json
cp "$T/.out" "$T/ubu.json"
t_ok "upstream from version_signature" jq -e '.distro == "ubuntu" and .upstream == "5.4.44"' "$T/ubu.json"
t_ok "target from the series directory" jq -e '.target == "5.4.10" and .target_from == "series directory"' "$T/ubu.json"
t_ok "eol, nearest longterm 5.10" jq -e '.eol == true and .longterm == "5.10.200" and .longterm_series == "5.10"' "$T/ubu.json"
t_exit 0 "text output for an EOL series" "${R[@]}" --root "$T/ubuntu" --mirror "$U"
t_grep "text names the target" '^Target: +5\.4\.10' "$T/.out"
t_grep "EOL is warned" "series 5.4 is end of life" "$T/.err"
t_grep "the longterm series is offered" "nearest longterm series is 5.10" "$T/.err"

t_exit 0 "a given Fedora release" "${R[@]}" --mirror "$U" --json 6.6.1-200.fc39.x86_64
t_jq "fedora 6.6 -> 6.6.5" '.distro == "fedora" and .target == "6.6.5"' "$T/.out"
t_exit 0 "--series" "${R[@]}" --mirror "$U" --json --series 6.8 6.6.1
t_jq "--series 6.8 -> 6.8, eol" '.target == "6.8" and .eol == true and .tarball == "linux-6.8.tar.xz"' "$T/.out"
t_exit 0 "--version" "${R[@]}" --mirror "$U" --json --version 6.6.4 6.6.1
t_jq "--version is the target" '.target == "6.6.4" and .target_from == "--version"' "$T/.out"
t_exit 0 "--longterm" "${R[@]}" --mirror "$U" --json --longterm 6.2.1
t_jq "--longterm from 6.2 -> 6.1.192" '.target == "6.1.192"' "$T/.out"
t_exit 0 "--offline contacts no mirror" "$ACSO" --work-dir "$T/off" resolve --offline --json --mirror http://127.0.0.1:9 "Ubuntu 5.3.0-24.26-generic 5.3.13"
t_jq "--offline reports what the strings say" '.series == "5.3" and .upstream == "5.3.13" and .target == "5.3.13" and .eol == null' "$T/.out"

# Issue 17: a non-zero sublevel is the upstream one on every distribution;
# X.Y.0 on an enterprise kernel stays unknown, with the reason. Real release
# strings (their sources: tests/unit/test-version.c, test_ident).
while read -r rel up; do
	t_exit 0 "--offline $rel" "$ACSO" --work-dir "$T/off" resolve --offline --json "$rel"
	cp "$T/.out" "$T/rel.json" # t_ok writes $T/.out
	if [ "$up" = - ]; then
		t_ok "$rel: upstream unknown, the reason given" \
			jq -e '.upstream == null and .target == null and (.upstream_unknown_why | test("frozen base"))' "$T/rel.json"
	else
		t_ok "$rel: upstream $up" jq -e --arg u "$up" '.upstream == $u and .target == $u and .upstream_unknown_why == null' "$T/rel.json"
	fi
done <<'EOF'
4.19.84-2.el7.nutanix.20190916.276.x86_64 4.19.84
4.4.77-1.el7.nutanix.20191030.415.x86_64 4.4.77
5.4.17-2136.300.7.el8uek.x86_64 5.4.17
4.14.336-257.562.amzn2.x86_64 4.14.336
5.4.129-63.229.amzn2.x86_64 5.4.129
6.9.7-200.fc40.x86_64 6.9.7
3.10.0-1160.el7.x86_64 -
4.18.0-513.el8 -
5.14.0-362.el9 -
3.10.0-1160.80.1.vz7.191.4 -
EOF
t_exit 0 "--offline, text: an el7 frozen base" "$ACSO" --work-dir "$T/off" resolve --offline 3.10.0-1160.el7.x86_64
t_grep "... says why the upstream is unknown" '^Upstream: +unknown \(on an enterprise kernel X\.Y\.0 is the frozen base' "$T/.out"

# Issue 12 item 7: real /proc/version lines of a running machine (sources:
# tests/data/version-lines/lines.tsv). The compiler's "(Debian 12.2.0-14)"
# is not the kernel's version; Proxmox names its own in "PMX X.Y.Z-N".
mkroot "$T/deb12" 6.1.0-11-amd64 "Linux version 6.1.0-11-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.38-4 (2023-08-08)"
t_exit 0 "running Debian 12, the whole /proc/version" "$ACSO" --work-dir "$T/off" --root "$T/deb12" resolve --offline --json
t_jq "... upstream 6.1.38 from uname -v, not the compiler's" '.distro == "debian" and .upstream == "6.1.38" and .upstream_from == "uname -v"' "$T/.out"
mkroot "$T/pve" 6.8.12-13-pve "Linux version 6.8.12-13-pve (build@proxmox) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-13 (2025-07-22T10:00Z) ()"
t_exit 0 "running Proxmox VE" "$ACSO" --work-dir "$T/off" --root "$T/pve" resolve --offline
t_grep "... named, with its label" '^Distro: +proxmox \(Proxmox VE\)$' "$T/.out"
t_grep "... upstream from PMX" '^Upstream: +6\.8\.12 \(from uname -v\)$' "$T/.out"
mkroot "$T/deb-cut" 6.1.0-11-amd64 "Linux version 6.1.0-11-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0)"
t_exit 0 "a /proc/version without its uname -v part" "$ACSO" --work-dir "$T/off" --root "$T/deb-cut" resolve --offline
t_grep "... says what is missing, not 'no sublevel'" '^Upstream: +unknown \(uname -v \(/proc/version\) names no kernel package version' "$T/.out"
mkroot "$T/wsl1" 4.4.0-19041-Microsoft "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (Ubuntu 5.4.0-6ubuntu1~16.04.12) ) #1237-Microsoft Sat Sep 11 14:32:00 PST 2021"
t_exit 1 "WSL 1 is refused" "$ACSO" --work-dir "$T/off" --root "$T/wsl1" resolve --offline
t_grep "... as no Linux kernel" "^acso: resolve: '4.4.0-19041-Microsoft' is WSL 1, .* not a Linux kernel" "$T/.err"
t_grep "... with what to do" "^hint: run acso on the Linux machine" "$T/.err"

# releases.json cache: ETag, then 304.
"$ACSO" --work-dir "$T/etag" resolve --mirror "$H/etag" --json 6.6.1 >"$T/e1" 2>&1
"$ACSO" --work-dir "$T/etag" resolve --mirror "$H/etag" --json 6.6.1 >"$T/e2" 2>&1
t_ok "first request is not cached" jq -e '.releases_cached == false and .target == "6.6.5"' "$T/e1"
t_ok "second request is answered 304 from the cache" jq -e '.releases_cached == true and .target == "6.6.5"' "$T/e2"
t_grep "the second request carried If-None-Match" '^"' "$T/m/.hits-etag"
t_exit 0 "--offline uses the cached releases.json" "$ACSO" --work-dir "$T/etag" resolve --offline --mirror "$H/etag" --json 6.6.1
t_jq "... and finds the target" '.target == "6.6.5" and .releases_cached == true' "$T/.out"

t_exit 1 "a malformed releases.json is an error" "${R[@]}" --mirror "$U/bad" 6.6.1
t_grep "... naming the field" "releases\[0\]\.iseol is not a boolean" "$T/.err"
t_exit 1 "a truncated releases.json is an error" "${R[@]}" --mirror "$U/trunc" 6.6.1
t_grep "... saying so" "releases.json: truncated" "$T/.err"
t_exit 1 "a garbage release string" "${R[@]}" --mirror "$U" "no.such-thing"
t_grep "... is explained" "is not a kernel release" "$T/.err"
t_exit 1 "a garbage --series" "${R[@]}" --mirror "$U" --series 6 6.6.1
t_grep "... is explained" "is not a kernel series" "$T/.err"
t_exit 1 "an unknown series" "${R[@]}" --mirror "$U" 4.19.1
t_grep "... names the missing series directory" "v4.x/sha256sums.asc': HTTP 404" "$T/.err"
t_exit 1 "a mirror that answers 500" "${R[@]}" --mirror "$H/status/500" 6.6.1
t_grep "... is named" "HTTP 500" "$T/.err"
t_done
