/* kbuild.c — the pure parts of running `make bindeb-pkg`: command line,
 * release and Debian version, preflight, progress parsing, diagnosis. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "kernel/kbuild.h"
#include "base/spawn.h"

#define MAKEFILE_MAX (1u << 20)
#define CONFIG_MAX   (8u << 20)
#define LOCALVERSION_FILE_MAX 256

/* One DISTCC_HOSTS entry: "host", "host/4", "host:3632/4", "@host/4",
 * "host,lzo", "localhost/2". Returns its slots or -EINVAL. */
static int distcc_host_slots(const char *h, size_t len)
{
	_cleanup_free_ char *s = xstrndup(h, len);
	char *opts = strchr(s, ',');
	if (opts)
		*opts = '\0';
	char *slash = strchr(s, '/');
	uint32_t slots = 0;
	if (slash) {
		*slash = '\0';
		if (parse_u32(slash + 1, 10, &slots) < 0 || slots == 0 || slots > 1024)
			return -EINVAL;
	}
	const char *host = s[0] == '@' ? s + 1 : s;
	if (!*host)
		return -EINVAL;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:[]", *p))
			return -EINVAL;
	if (!slots)
		slots = startswith(host, "localhost") ? 2 : 4; /* distcc's own defaults */
	return (int)slots;
}

int kbuild_distcc_slots(const char *hosts, struct acso_err *e)
{
	int total = 0, n = 0;
	const char *p = hosts;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, " \t");
		if (!len)
			break;
		int s = distcc_host_slots(p, len);
		if (s < 0)
			return err_set(e, -EINVAL, "bad distcc host '%.*s' (expected HOST[:PORT][/LIMIT])", (int)len, p);
		total += s;
		n++;
		p += len;
	}
	if (!n)
		return err_set(e, -EINVAL, "no distcc hosts given");
	return total;
}

int kbuild_command(const struct kbuild_opts *o, struct strv *argv, struct strv *env,
		   struct acso_err *e)
{
	int jobs = o->jobs ? (int)o->jobs : (int)(o->cpus ? o->cpus : 1);
	const char *cc = NULL;
	if (o->distcc_hosts) {
		int slots = kbuild_distcc_slots(o->distcc_hosts, e);
		if (slots < 0)
			return slots;
		if (!o->jobs)
			jobs = slots;
		strv_pushf(env, "DISTCC_HOSTS=%s", o->distcc_hosts);
		/* distcc writes one line per job at this level; the command
		 * layer summarises that log into the build log. */
		if (o->distcc_log) {
			strv_push(env, "DISTCC_VERBOSE=1");
			strv_pushf(env, "DISTCC_LOG=%s", o->distcc_log);
		}
		if (o->ccache) {
			strv_push(env, "CCACHE_PREFIX=distcc");
			cc = "ccache gcc";
		} else {
			cc = "distcc gcc";
		}
	} else if (o->icecc) {
		if (!o->jobs)
			jobs = 4 * (int)(o->cpus ? o->cpus : 1); /* the scheduler spreads them */
		cc = o->ccache ? "ccache gcc" : "icecc gcc";
		if (o->ccache)
			strv_push(env, "CCACHE_PREFIX=icecc");
	} else if (o->ccache) {
		cc = "ccache gcc";
	}
	if (o->ccache) {
		/* a point release's tree is another directory: paths below the
		 * base are hashed relative, and the cwd (hashed with -g) not at all */
		if (o->ccache_basedir)
			strv_pushf(env, "CCACHE_BASEDIR=%s", o->ccache_basedir);
		strv_push(env, "CCACHE_NOHASHDIR=1");
		if (o->ccache_dir)
			strv_pushf(env, "CCACHE_DIR=%s", o->ccache_dir);
	}
	strv_push(argv, "make");
	strv_push(argv, "-C");
	strv_push(argv, o->src_dir);
	strv_pushf(argv, "-j%d", jobs);
	strv_push(argv, "bindeb-pkg");
	strv_pushf(argv, "LOCALVERSION=%s", o->localversion);
	strv_pushf(argv, "KDEB_PKGVERSION=%s", o->pkgversion);
	if (cc)
		strv_pushf(argv, "CC=%s", cc);
	if (o->nokerneldbg)
		strv_push(env, "DEB_BUILD_PROFILES=pkg.linux-upstream.nokerneldbg");
	return jobs;
}

/* "VERSION = 6" from the Makefile head. */
static char *makefile_var(const char *text, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, nl))
			continue;
		const char *q = p + nl;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		size_t len = strcspn(q, "\n");
		char *v = xstrndup(q, len);
		return strip_trailing(v);
	}
	return NULL;
}

/* The value of CONFIG_NAME in a .config: "y", "m", the string without its
 * quotes, or NULL when unset. Malloc'ed. */
static char *config_value(const char *config, const char *name)
{
	if (!config)
		return NULL;
	size_t nl = strlen(name);
	for (const char *p = config; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, nl) || p[nl] != '=')
			continue;
		const char *v = p + nl + 1;
		size_t len = strcspn(v, "\n");
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
			return xstrndup(v + 1, len - 2);
		return xstrndup(v, len);
	}
	return NULL;
}

static bool config_on(const char *config, const char *name)
{
	_cleanup_free_ char *v = config_value(config, name);
	return v && (!strcmp(v, "y") || !strcmp(v, "m"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* localversion* files at the top of the tree, in name order (as
 * scripts/setlocalversion reads them). */
static void localversion_files(int dirfd, const char *src_dir, struct buf *out)
{
	DIR *d = opendir(src_dir);
	if (!d)
		return;
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (startswith(de->d_name, "localversion") && !endswith(de->d_name, "~"))
			strv_push(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *text = NULL;
		if (read_file_at(dirfd, names.v[i], LOCALVERSION_FILE_MAX, &text, NULL) < 0)
			continue;
		for (char *p = text; *p; p++)
			if (!isspace((unsigned char)*p))
				buf_append(out, p, 1);
	}
	strv_free(&names);
}

int kbuild_release(const char *src_dir, const char *localversion, char **version,
		   char **release, struct acso_err *e)
{
	_cleanup_close_ int dirfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_set(e, -errno, "'%s': %s", src_dir, strerror(errno));
	_cleanup_free_ char *mk = NULL;
	int r = read_file_at(dirfd, "Makefile", MAKEFILE_MAX, &mk, NULL);
	if (r < 0)
		return err_set(e, r, "'%s/Makefile': %s", src_dir, acso_strerror(r));
	_cleanup_free_ char *v = makefile_var(mk, "VERSION");
	_cleanup_free_ char *pl = makefile_var(mk, "PATCHLEVEL");
	_cleanup_free_ char *sl = makefile_var(mk, "SUBLEVEL");
	_cleanup_free_ char *ev = makefile_var(mk, "EXTRAVERSION");
	uint32_t a, b, c = 0;
	if (!v || !pl || parse_u32(v, 10, &a) < 0 || parse_u32(pl, 10, &b) < 0 ||
	    (sl && *sl && parse_u32(sl, 10, &c) < 0))
		return err_set(e, -ACSO_E_PARSE, "'%s/Makefile': no VERSION/PATCHLEVEL/SUBLEVEL: not a kernel tree", src_dir);
	if (ev)
		for (const char *p = ev; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-.+_~", *p))
				return err_set(e, -ACSO_E_PARSE, "'%s/Makefile': EXTRAVERSION '%s' is not a plain string", src_dir, ev);
	_cleanup_free_ char *config = NULL;
	(void)read_file_at(dirfd, ".config", CONFIG_MAX, &config, NULL);
	_cleanup_free_ char *cfg_lv = config_value(config, "CONFIG_LOCALVERSION");
	struct buf lv = {0};
	localversion_files(dirfd, src_dir, &lv);
	*version = xasprintf("%u.%u.%u%s", a, b, c, ev ? ev : "");
	*release = xasprintf("%s%s%s%s", *version, buf_str(&lv), cfg_lv ? cfg_lv : "", localversion);
	buf_free(&lv);
	return 0;
}

char *kbuild_pkgversion(const char *version, const char *localversion, const char *previous)
{
	_cleanup_free_ char *base = xasprintf("%s%s", version, localversion);
	for (char *p = base; *p; p++)
		if (*p == '_')
			*p = '.';
	/* "-rc4" sorts after the release in Debian; "~rc4" sorts before. */
	char *rc = strstr(base, "-rc");
	if (rc)
		*rc = '~';
	uint32_t n = 0;
	size_t bl = strlen(base);
	if (previous && !strncmp(previous, base, bl) && previous[bl] == '-' &&
	    parse_u32(previous + bl + 1, 10, &n) < 0)
		n = 0;
	return xasprintf("%s-%u", base, n + 1);
}

bool kbuild_knows_nokerneldbg(const char *src_dir)
{
	static const char *const files[] = {
		"scripts/package/mkdebian", "scripts/package/builddeb", "scripts/package/debian/rules",
	};
	_cleanup_close_ int dirfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *text = NULL;
		if (read_file_at(dirfd, files[i], MAKEFILE_MAX, &text, NULL) == 0 &&
		    strstr(text, "pkg.linux-upstream.nokerneldbg"))
			return true;
	}
	return false;
}

static bool have_program(const char *prog)
{
	_cleanup_free_ char *p = spawn_which(prog);
	if (p)
		return true;
	/* depmod lives in /sbin, which a user's PATH may lack; make finds it. */
	static const char *const sbins[] = {"/usr/sbin/", "/sbin/"};
	for (size_t i = 0; i < ARRAY_SIZE(sbins); i++) {
		_cleanup_free_ char *s = xasprintf("%s%s", sbins[i], prog);
		if (access(s, X_OK) == 0)
			return true;
	}
	return false;
}

int kbuild_missing_packages(const char *config, const char *include_dir, struct strv *missing)
{
	/* bindeb-pkg's Build-Depends (FIELD-NOTES §8) and what make itself runs. */
	static const struct { const char *prog, *header, *package; } tools[] = {
		{"make", NULL, "make"},
		{"gcc", NULL, "gcc"},
		{"bc", NULL, "bc"},
		{"rsync", NULL, "rsync"},
		{"depmod", NULL, "kmod"},
		{"cpio", NULL, "cpio"},
		{"bison", NULL, "bison"},
		{"flex", NULL, "flex"},
		{"fakeroot", NULL, "fakeroot"},
		{"dpkg-buildpackage", NULL, "dpkg-dev"},
		{NULL, "gelf.h", "libelf-dev"},
		{NULL, "openssl/opensslv.h", "libssl-dev"},
	};
	int n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		bool ok;
		if (tools[i].prog) {
			ok = have_program(tools[i].prog);
		} else {
			_cleanup_free_ char *h = path_join(include_dir, tools[i].header);
			ok = access(h, F_OK) == 0;
		}
		if (!ok) {
			strv_push(missing, tools[i].package);
			n++;
		}
	}
	if (config_on(config, "CONFIG_DEBUG_INFO_BTF") && !have_program("pahole")) {
		strv_push(missing, "dwarves");
		n++;
	}
	return n;
}

/* Enabled symbols ("=y" / "=m"). */
static uint64_t enabled_symbols(const char *config)
{
	uint64_t n = 0;
	for (const char *p = config; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!startswith(p, "CONFIG_"))
			continue;
		const char *eq = strchr(p, '=');
		const char *nl = strchr(p, '\n');
		if (eq && (!nl || eq < nl) && (eq[1] == 'y' || eq[1] == 'm') && (eq[2] == '\n' || !eq[2]))
			n++;
	}
	return n;
}

uint64_t kbuild_estimate_objects(const char *config)
{
	/* Measured on 6.1 (x86_64): the qemu profile enables 536 symbols and
	 * compiles 968 objects; a fixed part (core, lib, arch) plus about 1.25
	 * objects a symbol. A rough first estimate: the next build of the same
	 * tree uses the count the last one measured. */
	return 300 + enabled_symbols(config) * 5 / 4;
}

uint64_t kbuild_disk_needed(const char *config, uint64_t objects)
{
	/* Object files, vmlinux, the staged packages: ~150 KiB an object
	 * without debug info, several times that with it. */
	uint64_t per = 150u << 10;
	if (config_on(config, "CONFIG_DEBUG_INFO") && !config_on(config, "CONFIG_DEBUG_INFO_NONE"))
		per *= 6;
	return (1ull << 30) + objects * per;
}

const char *kbuild_phase_name(enum kbuild_phase p)
{
	static const char *const names[] = {"prepare", "compile", "link", "modules", "package"};
	return p < ARRAY_SIZE(names) ? names[p] : "?";
}

bool kbuild_line(const char *line, enum kbuild_phase *phase)
{
	/* Only lines that come after every object of the phase before. Not
	 * "dpkg-buildpackage": since bindeb-pkg runs dpkg-buildpackage first
	 * and the kernel is compiled inside it, its line opens the build (the
	 * compile showed as "package"). Not "LD [M]" nor "MODPOST
	 * vmlinux.symvers": multi-object modules link, and vmlinux.o is
	 * checked, while other objects still compile; Module.symvers is
	 * written once every module is. */
	static const struct { const char *prefix; enum kbuild_phase phase; } starts[] = {
		{"  LD      vmlinux", KB_LINK},
		{"  MODPOST Module.symvers", KB_MODULES},
		{"dpkg-deb: building package", KB_PACKAGE},
	};
	for (size_t i = 0; i < ARRAY_SIZE(starts); i++)
		if (startswith(line, starts[i].prefix) && *phase < starts[i].phase)
			*phase = starts[i].phase;
	bool cc = startswith(line, "  CC      ") || startswith(line, "  CC [M]  ");
	if (cc && endswith(line, ".o")) {
		if (*phase < KB_COMPILE)
			*phase = KB_COMPILE;
		return true;
	}
	return false;
}

void kbuild_diag_free(struct kbuild_diag *d)
{
	free(d->cause);
	free(d->fix);
	strv_free(&d->errors);
	memset(d, 0, sizeof(*d));
}

/* "make[2]: *** [Makefile:123: x] Error 2" only repeats an earlier error. */
static bool consequential(const char *line)
{
	return startswith(line, "make") && strstr(line, ": *** [") && strstr(line, "] Error ");
}

static bool looks_like_error(const char *line)
{
	static const char *const marks[] = {
		"error:", "Error:", "ERROR:", "*** ", "not found", "No space left on device",
		"No rule to make target", "No such file or directory", "is not available",
		"Failed to generate BTF", "command not found",
	};
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++)
		if (strstr(line, marks[i]))
			return true;
	return false;
}

/* A tool named in "/bin/sh: 1: bc: not found" or "bc: command not found". */
static const struct { const char *tool, *package; } tool_packages[] = {
	{"bc", "bc"}, {"flex", "flex"}, {"bison", "bison"}, {"cpio", "cpio"},
	{"rsync", "rsync"}, {"depmod", "kmod"}, {"fakeroot", "fakeroot"},
	{"dpkg-buildpackage", "dpkg-dev"}, {"dpkg-architecture", "dpkg-dev"},
	{"dpkg-deb", "dpkg"}, {"dpkg-source", "dpkg-dev"}, {"perl", "perl"},
	{"gcc", "gcc"}, {"zstd", "zstd"}, {"xz", "xz-utils"}, {"lz4", "lz4"},
	{"openssl", "openssl"}, {"pahole", "dwarves"},
};
static const struct { const char *header, *package; } header_packages[] = {
	{"gelf.h", "libelf-dev"}, {"libelf.h", "libelf-dev"}, {"openssl/", "libssl-dev"},
	{"zlib.h", "zlib1g-dev"},
};

static bool diag_tool(const char *line, struct kbuild_diag *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(tool_packages); i++) {
		const char *t = tool_packages[i].tool;
		_cleanup_free_ char *a = xasprintf(" %s: not found", t);
		_cleanup_free_ char *b = xasprintf("%s: command not found", t);
		_cleanup_free_ char *c = xasprintf("\"%s\": executable file not found", t);
		const char *s = strstr(line, a) ? a : strstr(line, b) ? b : strstr(line, c) ? c : NULL;
		if (!s)
			continue;
		/* The match must be the whole word: "xbc: not found" is not bc. */
		const char *at = strstr(line, s);
		if (s == b && at > line && (isalnum((unsigned char)at[-1]) || at[-1] == '-'))
			continue;
		snprintf(d->what, sizeof(d->what), "%s", tool_packages[i].package);
		d->cause = xasprintf("the build tool '%s' is not installed", t);
		d->fix = xasprintf("apt-get install %s", tool_packages[i].package);
		return true;
	}
	if (!strstr(line, "No such file or directory") || !strstr(line, "fatal error:"))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(header_packages); i++) {
		if (!strstr(line, header_packages[i].header))
			continue;
		snprintf(d->what, sizeof(d->what), "%s", header_packages[i].package);
		d->cause = xasprintf("a header of '%s' is missing", header_packages[i].package);
		d->fix = xasprintf("apt-get install %s", header_packages[i].package);
		return true;
	}
	return false;
}

static bool diagnose_line(const char *line, struct kbuild_diag *d)
{
	if (strstr(line, "No space left on device")) {
		d->kind = KB_FAIL_NOSPACE;
		d->cause = xstrdup("the disk filled up during the build");
		d->fix = xstrdup("free space on the file system of the source tree and the work directory "
				 "(a distribution config needs 20-25 GB), or trim the config (acso config --trim), then build again");
		return true;
	}
	const char *nr = strstr(line, "No rule to make target '");
	if (nr && strstr(nr, ".pem'")) {
		const char *f = nr + strlen("No rule to make target '");
		size_t len = strcspn(f, "'");
		snprintf(d->what, sizeof(d->what), "%.*s", (int)len, f);
		bool revoked = strstr(d->what, "revoked") != NULL;
		const char *sym = revoked ? "SYSTEM_REVOCATION_KEYS" : "SYSTEM_TRUSTED_KEYS";
		d->kind = revoked ? KB_FAIL_REVOKED_CERTS : KB_FAIL_CERTS;
		d->cause = xasprintf("the configuration names '%s' in CONFIG_%s, a file only the distribution's own tree has",
				     d->what, sym);
		d->fix = xasprintf("set it empty: scripts/config --file .config --set-str %s \"\" (in the source tree), then build again", sym);
		return true;
	}
	if ((strstr(line, "pahole") && (strstr(line, "is not available") || strstr(line, "not found"))) ||
	    strstr(line, "Failed to generate BTF") || strstr(line, "BTF: .tmp_vmlinux")) {
		d->kind = KB_FAIL_PAHOLE;
		snprintf(d->what, sizeof(d->what), "dwarves");
		d->cause = xstrdup("CONFIG_DEBUG_INFO_BTF needs pahole, which is missing or too old");
		d->fix = xstrdup("apt-get install dwarves, or disable BTF: scripts/config --file .config -d DEBUG_INFO_BTF");
		return true;
	}
	if (diag_tool(line, d)) {
		d->kind = KB_FAIL_TOOL;
		return true;
	}
	return false;
}

void kbuild_diagnose(const char *log, struct kbuild_diag *d)
{
	memset(d, 0, sizeof(*d));
	struct strv later = {0}; /* consequential lines, used when nothing else */
	for (const char *p = log; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len > 400 ? 400 : len);
		p += len;
		if (*p)
			p++;
		if (!looks_like_error(line))
			continue;
		if (consequential(line)) {
			if (later.n < 5)
				strv_push(&later, line);
			continue;
		}
		if (d->errors.n < 5)
			strv_push(&d->errors, line);
		if (d->kind == KB_FAIL_UNKNOWN)
			diagnose_line(line, d);
	}
	if (!d->errors.n)
		for (size_t i = 0; i < later.n; i++)
			strv_push(&d->errors, later.v[i]);
	strv_free(&later);
	if (d->kind == KB_FAIL_UNKNOWN) {
		d->cause = xstrdup("not one of the known failures");
		d->fix = xstrdup("read the error lines above and the log; a compiler error in drivers/pci/quirks.c points at the ACS patch");
	}
}
