/* acssupport.c — see acssupport.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"
#include "machine/acssupport.h"

/* The patch's symbols: the quirk and the early_param parser (functions,
 * listed by every kernel with kallsyms), then the classic patch's variables
 * (listed with CONFIG_KALLSYMS_ALL). acso's own placement uses the first two. */
static const char *const patch_symbols[] = {
	"pcie_acs_overrides", "pcie_acs_override_setup",
	"acs_on_downstream", "acs_on_multifunction", "acs_on_ids", "max_acs_id",
};
/* Always in a kernel built with quirks.c: the list is the kernel's own. */
static const char kernel_marker[] = "pci_dev_specific_acs_enabled";

struct symscan {
	bool kernel;        /* the marker was seen */
	bool any;           /* a line of the right shape was seen */
	char found[64];
};

/* name equals want, or want followed by a compiler suffix (".isra.0"). */
static bool same_symbol(const char *name, size_t n, const char *want)
{
	size_t w = strlen(want);
	return n >= w && !memcmp(name, want, w) && (n == w || name[w] == '.');
}

/* One "ADDRESS TYPE NAME[\t[MODULE]]" line (without its newline). */
static void scan_line(struct symscan *s, const char *line, size_t len)
{
	const char *end = line + len, *p = line;
	while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
		p++;
	if (p == line || p + 3 > end || *p != ' ' || p[2] != ' ')
		return;
	const char *name = p + 3, *ne = name;
	while (ne < end && *ne != '\t' && *ne != ' ')
		ne++;
	if (ne == name)
		return;
	s->any = true;
	if (ne < end && memchr(ne, '[', (size_t)(end - ne)))
		return; /* a module's symbol */
	size_t n = (size_t)(ne - name);
	if (same_symbol(name, n, kernel_marker))
		s->kernel = true;
	for (size_t i = 0; i < ARRAY_SIZE(patch_symbols) && !s->found[0]; i++)
		if (same_symbol(name, n, patch_symbols[i]))
			snprintf(s->found, sizeof(s->found), "%s", patch_symbols[i]);
}

static int scan_result(const struct symscan *s, char *sym, size_t symlen)
{
	if (s->found[0]) {
		if (sym && symlen)
			snprintf(sym, symlen, "%s", s->found);
		return 1;
	}
	return s->any && s->kernel ? 0 : -1;
}

int acs_scan_symbols(const char *text, size_t len, char *sym, size_t symlen)
{
	struct symscan s = {0};
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		scan_line(&s, p, (size_t)(le - p));
		p = le + 1;
	}
	return scan_result(&s, sym, symlen);
}

/* Scan a symbol file below rootfd in fixed-size chunks, at most
 * ACS_SYMBOLS_MAX bytes; only a regular file is read (never a FIFO or a
 * device node). No symbol line is longer than SYM_LINE_MAX: a longer one
 * is garbage and skipped, so that a file without newlines never makes us
 * hold it whole. Returns what acs_scan_symbols returns, or -errno / -EFBIG. */
#define SYM_LINE_MAX 1024
static int scan_file(int rootfd, const char *path, char *sym, size_t symlen)
{
	_cleanup_close_ int fd = root_open(rootfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -EINVAL;
	struct symscan s = {0};
	char buf[65536];
	size_t have = 0, total = 0;
	bool skipping = false; /* inside an over-long line */
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		total += (size_t)n;
		if (total > ACS_SYMBOLS_MAX)
			return -EFBIG;
		have += (size_t)n;
		char *p = buf, *end = buf + have, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			if (!skipping)
				scan_line(&s, p, (size_t)(nl - p));
			skipping = false;
			p = nl + 1;
		}
		if (n == 0) { /* the last line without its newline */
			if (!skipping && p < end)
				scan_line(&s, p, (size_t)(end - p));
			break;
		}
		if (s.found[0])
			break;
		have = (size_t)(end - p);
		if (have > SYM_LINE_MAX) {
			skipping = true;
			have = 0;
		}
		memmove(buf, p, have);
	}
	return scan_result(&s, sym, symlen);
}

const char *acs_release_flavour(const char *release)
{
	static const char *const flavours[][2] = {
		{"-pve", "pve"}, {"-zen", "zen"}, {"liquorix", "liquorix"}, {"xanmod", "xanmod"},
		{"cachyos", "cachyos"}, {"-Unraid", "unraid"}, {"-vfio", "vfio"}, {"-acso", "acso"},
	};
	if (!release)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(flavours); i++)
		if (strstr(release, flavours[i][0]))
			return flavours[i][1];
	return NULL;
}

const char *acs_evidence_name(enum acs_evidence ev)
{
	switch (ev) {
	case ACS_EV_BOOT_LOG: return "boot log";
	case ACS_EV_KALLSYMS: return "kallsyms";
	case ACS_EV_SYSTEM_MAP: return "System.map";
	case ACS_EV_UNKNOWN_PARAM: return "unknown parameter";
	case ACS_EV_NONE: break;
	}
	return "none";
}

static void note_failure(struct acs_support *out, const char *path, int r)
{
	size_t used = strlen(out->note);
	if (r == -ENOENT) {
		snprintf(out->note + used, sizeof(out->note) - used, "%sno %s", used ? ", " : "", path);
		return;
	}
	const char *why = r == -EFBIG ? "larger than any kernel's symbol list"
			: r == -EINVAL ? "not a regular file"
			: r == -1 ? "lists no kernel symbols"
			: strerror(-r);
	snprintf(out->note + used, sizeof(out->note) - used, "%s%s: %s", used ? "; " : "", path, why);
}

/* Try one symbol file; true when it decided the verdict. */
static bool try_symbols(int rootfd, const char *path, enum acs_evidence ev, struct acs_support *out)
{
	int r = scan_file(rootfd, path, out->symbol, sizeof(out->symbol));
	if (r < 0) {
		note_failure(out, path, r);
		return false;
	}
	out->supported = r == 1 ? TRI_YES : TRI_NO;
	out->evidence = ev;
	snprintf(out->source, sizeof(out->source), "%s", path);
	return true;
}

void acs_support_detect(int rootfd, const char *release, bool log_enabled,
			bool log_unknown, struct acs_support *out)
{
	memset(out, 0, sizeof(*out));
	out->supported = TRI_UNKNOWN;
	const char *fl = acs_release_flavour(release);
	if (fl)
		snprintf(out->flavour, sizeof(out->flavour), "%s", fl);
	if (log_enabled) {
		out->supported = TRI_YES;
		out->evidence = ACS_EV_BOOT_LOG;
		snprintf(out->source, sizeof(out->source), "kernel log");
		return;
	}
	if (try_symbols(rootfd, "/proc/kallsyms", ACS_EV_KALLSYMS, out))
		return;
	if (release && *release && !strchr(release, '/')) {
		_cleanup_free_ char *map = xasprintf("/boot/System.map-%s", release);
		if (try_symbols(rootfd, map, ACS_EV_SYSTEM_MAP, out))
			return;
	}
	if (log_unknown) {
		out->supported = TRI_NO;
		out->evidence = ACS_EV_UNKNOWN_PARAM;
		snprintf(out->source, sizeof(out->source), "kernel log");
	}
}
