#!/usr/bin/env bash
# acso patch and acso config on Debian's real kernel trees (linux-source-6.1
# and linux-source-6.12): the override lands inside pci_dev_acs_enabled[] —
# checked by an independent parser (Python, below), not by grep — a second
# run changes nothing, and with the qemu profile drivers/pci/quirks.o
# compiles and carries the quirk.
. "$(dirname "$0")/../lib.sh"

# An independent check of the placement: strip comments, strings and
# preprocessor lines, find the definition NAME[] = { ... } by brace matching,
# split its entries at the top level, and print the entry before the last.
cat >"$T/check.py" <<'EOF'
import re, sys
src = open(sys.argv[1], encoding="utf-8", errors="replace").read()
tok = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|^[ \t]*#(?:\\\n|[^\n])*', re.S | re.M)
code = tok.sub(lambda m: " " if m.group(0).startswith(("/", "#", " ", "\t")) else '""', src)
def table(name):
    defs = [m for m in re.finditer(r'\b%s\s*\[\s*\]\s*(?:\w+\s*)*=\s*\{' % name, code)]
    assert len(defs) == 1, "%s: %d definitions" % (name, len(defs))
    i = defs[0].end(); depth = 1; start = i; entries = []; paren = 0
    while depth:
        c = code[i]
        if c in "([": paren += 1
        elif c in ")]": paren -= 1
        elif c == "{": depth += 1
        elif c == "}":
            depth -= 1
        if (c == "," and depth == 1 and paren == 0) or depth == 0:
            e = " ".join(code[start:i].split())
            if e: entries.append(e)
            start = i + 1
        i += 1
    return entries
acs = table("pci_dev_acs_enabled")
reset = table("pci_dev_reset_methods")
print("acs-last:", acs[-1])
print("acs-before-last:", acs[-2])
print("acs-count:", sum(1 for e in acs if "pcie_acs_overrides" in e))
print("reset-count:", sum(1 for e in reset if "pcie_acs_overrides" in e))
print("reset-last:", reset[-1])
EOF

for v in 6.1 6.12; do
	tarball=/usr/src/linux-source-$v.tar.xz
	if [ ! -r "$tarball" ]; then
		t_fail "$v: $tarball is installed (scripts/install-deps)"
		continue
	fi
	mkdir -p "$T/$v"
	nice -n 10 tar -C "$T/$v" -xJf "$tarball" || t_fail "$v: extract"
	S=$T/$v/linux-source-$v
	Q=$S/drivers/pci/quirks.c
	D=$S/Documentation/admin-guide/kernel-parameters.txt

	t_exit 0 "$v: acso patch" "$ACSO" patch --source-dir "$S" --json
	jq -e '.override.state == "placed" and .override.documentation == "placed" and .files_written == 2' "$T/.out" >/dev/null \
		&& t_pass "$v: report says placed" || t_fail "$v: report says placed" "$(head -20 "$T/.out")"
	python3 "$T/check.py" "$Q" >"$T/parsed" 2>&1 || t_fail "$v: parse the patched quirks.c" "$(cat "$T/parsed")"
	t_grep "$v: parsed: the table still ends in { 0 }" '^acs-last: \{ 0 \}$' "$T/parsed"
	t_grep "$v: parsed: our entry is the one before it" '^acs-before-last: \{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides \}$' "$T/parsed"
	t_grep "$v: parsed: exactly one entry in pci_dev_acs_enabled[]" '^acs-count: 1$' "$T/parsed"
	t_grep "$v: parsed: none in pci_dev_reset_methods[]" '^reset-count: 0$' "$T/parsed"
	t_grep "$v: documentation entry" '^	pcie_acs_override=$' "$D"

	sum1=$(sha256sum "$Q" "$D")
	t_exit 0 "$v: second acso patch" "$ACSO" patch --source-dir "$S" --json
	jq -e '.override.state == "already-acso" and .files_written == 0' "$T/.out" >/dev/null \
		&& t_pass "$v: second run knows it is patched" || t_fail "$v: second run knows it is patched"
	[ "$sum1" = "$(sha256sum "$Q" "$D")" ] && t_pass "$v: second run changes nothing" || t_fail "$v: second run changes nothing"

	t_exit 0 "$v: acso config --base tinyconfig --profile qemu" \
		"$ACSO" config --source-dir "$S" --base tinyconfig --profile qemu --json
	jq -e '.required_ok == true and .compile_check.status == "passed"' "$T/.out" >/dev/null \
		&& t_pass "$v: settings survived, quirks.o compiled" || t_fail "$v: settings survived, quirks.o compiled" "$(jq -c .compile_check "$T/.out")"
	for s in CONFIG_64BIT=y CONFIG_PCI_QUIRKS=y CONFIG_PCI_MMCONFIG=y CONFIG_INTEL_IOMMU=y CONFIG_VFIO_PCI=m; do
		grep -qx "$s" "$S/.config" && t_pass "$v: .config has $s" || t_fail "$v: .config has $s"
	done
	nm "$S/drivers/pci/quirks.o" >"$T/nm" 2>&1
	t_grep "$v: quirks.o has the quirk" ' t pcie_acs_overrides$' "$T/nm"
	t_grep "$v: quirks.o has the parameter" '__setup_str_pcie_acs_override_setup' "$T/nm"
	strings "$S/drivers/pci/quirks.o" >"$T/str"
	t_grep "$v: quirks.o says the boot warning" 'Warning: PCIe ACS overrides enabled; This may allow non-IOMMU protected peer-to-peer DMA' "$T/str"
	rm -rf "${T:?}/$v"
done

t_done
