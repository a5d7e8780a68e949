#!/usr/bin/env bash
# acso run --update: staying current with the real step commands (a local
# kernel.org mirror, a throwaway root, stub make and chroot, as run-real.sh).
# A run builds 6.1.191 while the mirror says it is the newest 6.1 release,
# with --profile qemu and --set; the mirror then offers 6.1.192:
#   - --update with nothing newer is a no-op;
#   - --update --dry-run shows the plan and changes nothing;
#   - --update rebuilds 6.1.192: the resolve step runs again (same inputs),
#     every step after it too; the config step starts from the .config the
#     6.1.191 build kept beside its packages (not the running kernel's), with
#     the recorded --profile and --set; the build goes through ccache with
#     the environment that makes two release trees share hits;
#   - a plain run afterwards, and a second --update, do nothing;
#   - --no-ccache builds without it; --update without a finished build fails.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stubs/setup.sh"

command -v ccache >/dev/null || t_fail "ccache is installed (scripts/install-deps)"
"$TOP/tests/mirror/make-mirror" "$T/m" --no-hostile >"$T/make-mirror.log" 2>&1 || { t_fail "make-mirror" "$(tail -5 "$T/make-mirror.log")"; t_done; }
read -r port spid < <("$TOP/tests/mirror/serve" "$T/m")
[ -n "${spid:-}" ] || { t_fail "serve the mirror"; t_done; }
t_track_pid "$spid"
printf 'keyring = %s\n' "$T/m/keyring.gpg" >"$T/acso.conf"
cp "$T/m/releases.json" "$T/releases-192.json"
# the mirror as it was when 6.1.191 was the newest 6.1 release
sed 's/6\.1\.192/6.1.191/g' "$T/releases-192.json" >"$T/m/releases.json"

R=$T/root
rm -rf "$R"
mkroot "$R"
cp -a "$TOP/tests/grub-corpus/debian-12/." "$R/"
printf 'vendor_id\t: GenuineIntel\n' >"$R/proc/cpuinfo"
mkdir -p "$R/usr/sbin"
touch "$R/usr/sbin/update-grub"
# the running kernel's config: what a rebuild must NOT start from
printf 'CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_LOCALVERSION=""\nCONFIG_RUNNING_KERNEL_ONLY=y\n' >"$R/boot/config-6.1.0-13-amd64"
RUN=("$ACSO" --config "$T/acso.conf" --work-dir "$W" --root "$R" run --mirror "http://127.0.0.1:$port" --allow-root)
ran() { sed -n 's/^==> //p' "$T/.err" | tr '\n' ' '; }
ALL="resolve fetch patch config build snapshot install grub "

t_exit 0 "the first build (6.1.191, --profile qemu --set)" "${RUN[@]}" --profile qemu --set CONFIG_PCI_QUIRKS=y
t_jq "... built 6.1.191" '.steps.build.outputs.release == "6.1.191-acso"' "$W/state/auto.json"
t_ok "the build kept the .config it compiled beside its packages" cmp "$W/build/6.1.191-acso/config" "$W/src/linux-6.1.191/.config"
t_grep "... the first build went through ccache (installed)" '^CC=ccache gcc$' "$T/bin/make.argv"
# a mark only the previous build's configuration carries
echo 'CONFIG_PREVIOUS_BUILD_MARK=y' >>"$W/build/6.1.191-acso/config"
t_exit 1 "--update without a finished build fails" "$ACSO" --config "$T/acso.conf" --work-dir "$T/empty" --root "$R" run --update --mirror "http://127.0.0.1:$port"
t_grep "... and says why" "^acso: run: --update: target 'auto': no build of this target has finished\$" "$T/.err"
t_exit 2 "--update with a VERSION is a usage error" "${RUN[@]}" --update 6.1.191

# Nothing newer: no step runs, the state stays as it is.
cp "$W/state/auto.json" "$T/state-191"
t_exit 0 "--update when 6.1.191 is the newest" "${RUN[@]}" --update
t_grep "... says there is nothing to rebuild" '^6\.1\.191 is the newest 6\.1 release: nothing to rebuild$' "$T/.out"
[ -z "$(ran)" ] && t_pass "... runs no step" || t_fail "... runs no step" "$(ran)"
t_ok "... leaves the state file alone" cmp "$T/state-191" "$W/state/auto.json"

# 6.1.192 is out.
cp "$T/releases-192.json" "$T/m/releases.json.new"
touch -d '+1 minute' "$T/m/releases.json.new" # a new Last-Modified and ETag: no 304
mv "$T/m/releases.json.new" "$T/m/releases.json"
sleep 2 # lighttpd's stat cache forgets the old file
t_exit 0 "a plain run does not look: still nothing to do" "${RUN[@]}"
t_grep "... nothing to do" '^Nothing to do' "$T/.out"
t_exit 0 "--update --dry-run --json" "${RUN[@]}" --update --dry-run --json
t_jq "... the report says rebuilding 6.1.192 with the configuration of 6.1.191, and from where" --arg c "$W/build/6.1.191-acso/config" \
	'.update == {"state": "rebuilding", "series": "6.1", "from": "6.1.191", "to": "6.1.192", "config": $c, "config_from": "kept by the build"}' "$T/.out"
t_jq "... and that the build goes through ccache" '.ccache == true and .ccache_why == "installed"' "$T/.out"
t_exit 0 "--update --dry-run" "${RUN[@]}" --update --dry-run
t_grep "... says what it would rebuild and from which configuration" '^rebuilding 6\.1\.192 with the configuration of 6\.1\.191$' "$T/.out"
t_grep "... and where that configuration is" "^  config: $W/build/6\\.1\\.191-acso/config \\(kept by the build\\)\$" "$T/.out"
t_grep "... resolve would run again, for the 6.1 series" '^resolve +would run: .* resolve --json --series 6\.1 --mirror' "$T/.out"
t_grep "... the steps after it wait for what it finds" '^fetch +would run once the steps before it are done$' "$T/.out"
t_ok "... the state file is unchanged" cmp "$T/state-191" "$W/state/auto.json"
t_ok "... nothing fetched" test ! -e "$W/src/linux-6.1.192"

t_exit 0 "--update rebuilds 6.1.192" "${RUN[@]}" --update
[ "$(ran)" = "$ALL" ] && t_pass "... every step ran again, resolve first" || t_fail "... every step ran" "$(ran)"
t_grep "... the report says so" '^rebuilding 6\.1\.192 with the configuration of 6\.1\.191$' "$T/.out"
t_jq "... resolved 6.1.192" '.steps.resolve.outputs.target == "6.1.192"' "$W/state/auto.json"
t_jq "... the config step started from the previous build's .config" --arg c "$W/build/6.1.191-acso/config" \
	'.steps.config.outputs.base == {"kind": "file", "path": $c}' "$W/state/auto.json"
t_grep "... whose content the new tree's .config carries" '^CONFIG_PREVIOUS_BUILD_MARK=y$' "$W/src/linux-6.1.192/.config"
t_nogrep "... not the running kernel's" 'CONFIG_RUNNING_KERNEL_ONLY' "$W/src/linux-6.1.192/.config"
t_jq "... with the recorded --profile and --set" --arg c "$W/build/6.1.191-acso/config" \
	'.steps.config.argv[-3:] == ["--base=" + $c, "--profile=qemu", "--set=CONFIG_PCI_QUIRKS=y"]' "$W/state/auto.json"
t_jq "... the build step was given --ccache" '.steps.build.argv | index("--ccache") != null' "$W/state/auto.json"
t_grep "... make compiled through ccache" '^CC=ccache gcc$' "$T/bin/make.argv"
t_jq "... and the build step's report says so" '.steps.build.outputs.ccache == true' "$W/state/auto.json"
t_grep "... with the trees' parent as CCACHE_BASEDIR" "^env CCACHE_BASEDIR=$W/src\$" "$T/bin/make.argv"
t_grep "... and the directory not hashed" '^env CCACHE_NOHASHDIR=1$' "$T/bin/make.argv"
t_jq "... 6.1.192-acso built and installed" '.steps.build.outputs.release == "6.1.192-acso" and .steps.install.outputs.release == "6.1.192-acso"' "$W/state/auto.json"
t_ok "... its kernel is in the root's /boot" test -s "$R/boot/vmlinuz-6.1.192-acso"

cp "$W/state/auto.json" "$T/state-192"
t_exit 0 "a plain run after the rebuild" "${RUN[@]}"
t_grep "... does nothing (the update's series and .config are recorded)" '^Nothing to do' "$T/.out"
t_exit 0 "a second --update" "${RUN[@]}" --update
t_grep "... finds 6.1.192 the newest" '^6\.1\.192 is the newest 6\.1 release: nothing to rebuild$' "$T/.out"
[ -z "$(ran)" ] && t_pass "... and runs no step" || t_fail "... and runs no step" "$(ran)"
t_ok "... the state file is unchanged" cmp "$T/state-192" "$W/state/auto.json"

t_exit 0 "--no-ccache" "${RUN[@]}" --no-ccache
[ "$(ran)" = "build snapshot install grub " ] && t_pass "... the build runs again (its arguments changed)" || t_fail "... the build runs again" "$(ran)" "$(cat "$T/.err")"
t_nogrep "... make compiles without ccache" 'ccache' "$T/bin/make.argv"
"${RUN[@]}" --no-ccache --dry-run --json >"$T/nocc.json" 2>/dev/null
t_jq "... the report says so" '.ccache == false and .ccache_why == "--no-ccache"' "$T/nocc.json"
t_done
