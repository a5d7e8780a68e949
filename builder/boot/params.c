/* params.c — see params.h: the pcie_acs_override= grammar and the CPU
 * vendor that decides whether intel_iommu=on is needed. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "boot/params.h"

/* ---- pcie_acs_override= grammar ---------------------------------------- */

static bool is_hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int acs_mode_check(const char *mode, struct acso_err *e)
{
	if (!mode || !*mode)
		return err_set(e, -ACSO_E_PARSE, "empty pcie_acs_override mode");
	if (strlen(mode) > 512)
		return err_set(e, -ACSO_E_PARSE, "pcie_acs_override mode is too long");
	int ids = 0;
	_cleanup_free_ char *copy = xstrdup(mode);
	char *save = NULL;
	if (mode[0] == ',' || mode[strlen(mode) - 1] == ',' || strstr(mode, ",,"))
		return err_set(e, -ACSO_E_PARSE, "'%s': empty item", mode);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "downstream") || !strcmp(t, "multifunction"))
			continue;
		if (startswith(t, "id:") && strlen(t) == 12 && is_hex4(t + 3) && t[7] == ':' && is_hex4(t + 8)) {
			/* the patch ignores (with "PCIe ACS invalid ID") vendor
			 * 0000 and ffff: no device answers with them */
			if (!strncmp(t + 3, "0000", 4) || !strncasecmp(t + 3, "ffff", 4))
				return err_set(e, -ACSO_E_PARSE,
					       "'%s': vendor %.4s is not a valid PCI vendor (the patch ignores it)", t, t + 3);
			/* acso's patch keeps 16 slots, the classic one in
			 * kernels that already carry it stops at 15: 15 holds
			 * for both */
			if (++ids > 15)
				return err_set(e, -ACSO_E_PARSE, "'%s': more than 15 ids (the patch accepts at most 15)", mode);
			continue;
		}
		return err_set(e, -ACSO_E_PARSE,
			       "'%s': expected downstream, multifunction or id:vvvv:dddd (4 hex digits each), comma separated",
			       t);
	}
	return 0;
}

const char *cpu_vendor(int rootfd)
{
	_cleanup_free_ char *text = NULL;
	if (root_read_file(rootfd, "/proc/cpuinfo", (size_t)8 << 20, &text, NULL) < 0)
		return "unknown";
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (startswith(line, "vendor_id")) {
			if (strstr(line, "GenuineIntel"))
				return "intel";
			if (strstr(line, "AuthenticAMD") || strstr(line, "HygonGenuine"))
				return "amd";
			return "unknown";
		}
		line = nl ? nl + 1 : NULL;
	}
	return "unknown";
}
