#!/usr/bin/env bash
# acso status says when a newer stable release of the series the ACS kernel
# follows is out, without touching the network: at kernel.org (the
# releases.json resolve cached in WORK/downloads, against the version a run
# resolved and installed) and in the prebuilt channel (apt's lists of its
# last update, against the channel's kernels dpkg has installed). The apt
# path end to end (a real apt update in an image) is in apt-channel.sh.
. "$(dirname "$0")/../lib.sh"
W=$T/w R=$T/root
mkdir -p "$W/state" "$W/downloads" "$R/var/lib/dpkg" "$R/etc/apt/sources.list.d" "$R/var/lib/apt/lists"
: >"$R/var/lib/dpkg/status"
# the releases.json shape of kernel.org (tests/mirror/make-mirror writes the same)
cat >"$W/downloads/releases.json" <<'J'
{
  "latest_stable": { "version": "6.6.5" },
  "releases": [
    { "iseol": false, "version": "6.6.5", "moniker": "stable",
      "source": "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.5.tar.xz",
      "pgp": "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.5.tar.sign",
      "released": { "timestamp": 1701900000, "isodate": "2023-12-06" },
      "gitweb": null, "changelog": null, "diffview": null,
      "patch": { "full": null, "incremental": null } },
    { "iseol": false, "version": "6.1.192", "moniker": "longterm",
      "source": "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.192.tar.xz",
      "pgp": "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.192.tar.sign",
      "released": { "timestamp": 1701900000, "isodate": "2023-12-06" },
      "gitweb": null, "changelog": null, "diffview": null,
      "patch": { "full": null, "incremental": null } }
  ]
}
J
record() { # TARGET VERSION: a run that resolved VERSION and installed it
	printf '{"steps": {"resolve": {"state": "done", "outputs": {"target": "%s"}}, "install": {"state": "done", "outputs": {"release": "%s-acso"}}}}\n' "$2" "$2" >"$W/state/$1.json"
}
S=("$ACSO" --work-dir "$W" --root "$R" status)

record t 6.1.190
t_exit 0 "status with an older build" "${S[@]}"
t_grep "kernel.org's newer 6.1 release is said, with the command that rebuilds it" '^kernel.org: 6\.1\.192 is newer than 6\.1\.190 \(target t\): acso run --update --target t rebuilds it with the same configuration$' "$T/.out"
t_exit 0 "status --json" "${S[@]}" --json
t_jq "... as an update, with its command" '.updates == [{"from": "kernel.org", "series": "6.1", "installed": "6.1.190", "newer": "6.1.192", "command": "acso run --update --target t"}]' "$T/.out"
record auto 6.1.190
rm "$W/state/t.json"
t_exit 0 "status of the default target" "${S[@]}"
t_grep "the default target's command names no target" '\(target auto\): acso run --update rebuilds it with the same configuration$' "$T/.out"
rm "$W/state/auto.json"
record t 6.1.192
t_exit 0 "status with the newest build" "${S[@]}"
t_nogrep "nothing newer: nothing said" 'newer than' "$T/.out"

# the channel: its source, apt's list of it, a kernel of it installed
rm "$W/state/t.json"
printf 'Types: deb\nURIs: http://127.0.0.1:8080/repo/\nSuites: ./\nSigned-By: /etc/apt/keyrings/acso-prebuilt.gpg\n' \
	>"$R/etc/apt/sources.list.d/acso-prebuilt.sources"
for v in 6.1.7 6.1.8 6.6.1; do
	printf 'Package: linux-image-%s-acso\nArchitecture: amd64\nVersion: %s-acso-1\n\n' $v $v
done >"$R/var/lib/apt/lists/127.0.0.1:8080_repo_._Packages"
printf 'Package: linux-image-6.1.7-acso\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.1.7-acso-1\n\n' >"$R/var/lib/dpkg/status"
t_exit 0 "status with a channel kernel installed" "${S[@]}"
t_grep "the channel's newer release is said" '^channel: 6\.1\.8-acso is newer than 6\.1\.7-acso \(installed\): apt update && apt upgrade installs it$' "$T/.out"
t_nogrep "... not another series" '6\.6\.1' "$T/.out"
printf 'Package: linux-image-6.1.8-acso\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.1.8-acso-1\n\n' >>"$R/var/lib/dpkg/status"
t_exit 0 "status with the channel's newest installed" "${S[@]}"
t_nogrep "... nothing said" 'newer than' "$T/.out"
t_done
