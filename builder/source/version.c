/* version.c — kernel version strings (see version.h). Pure string work: no
 * I/O, so that the fuzz target and the unit tests exercise all of it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "source/version.h"

#define KVER_NUM_MAX 65535u

/* A decimal component: no sign, no leading zero (except "0"), at most 65535. */
static int take_num(const char **p, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 5)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > KVER_NUM_MAX)
		return -1;
	*out = v;
	*p = s + n;
	return 0;
}

/* Parse "X.Y[.Z]" at *p; advances *p past it. */
static int take_xyz(const char **p, struct kver *v, bool *had_sub)
{
	const char *s = *p;
	memset(v, 0, sizeof(*v));
	if (take_num(&s, &v->major) < 0 || *s != '.')
		return -1;
	s++;
	if (take_num(&s, &v->minor) < 0)
		return -1;
	*had_sub = false;
	if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
		s++;
		if (take_num(&s, &v->sub) < 0)
			return -1;
		*had_sub = true;
	}
	if (v->major == 0)
		return -1;
	*p = s;
	return 0;
}

static int bad_version(const char *s, struct acso_err *e)
{
	return err_set(e, -ACSO_E_PARSE, "'%.64s' is not a kernel version (expected X.Y, X.Y.Z, X.Y-rcN or next-YYYYMMDD)", s);
}

int kver_parse(const char *s, struct kver *v, struct acso_err *e)
{
	const char *p = s;
	bool had_sub;
	if (!s)
		return err_set(e, -ACSO_E_PARSE, "no version");
	memset(v, 0, sizeof(*v));
	if (startswith(s, "next-")) {
		uint32_t d;
		if (strlen(s) != 13 || parse_u32(s + 5, 10, &d) < 0 || d < 20000101 || d > 29991231)
			return bad_version(s, e);
		v->kind = KVER_NEXT;
		v->next = d;
		return 0;
	}
	if (take_xyz(&p, v, &had_sub) < 0)
		return bad_version(s, e);
	if (startswith(p, "-rc") && !had_sub) {
		p += 3;
		if (take_num(&p, &v->rc) < 0 || v->rc == 0)
			return bad_version(s, e);
		v->kind = KVER_RC;
	}
	if (*p)
		return bad_version(s, e);
	return 0;
}

int kver_parse_series(const char *s, struct kver *v, struct acso_err *e)
{
	const char *p = s ? s : "";
	bool had_sub;
	if (take_xyz(&p, v, &had_sub) < 0 || had_sub || *p)
		return err_set(e, -ACSO_E_PARSE, "'%.64s' is not a kernel series (expected X.Y)", s ? s : "");
	return 0;
}

static int cmp_u(unsigned a, unsigned b) { return (a > b) - (a < b); }

int kver_cmp(const struct kver *a, const struct kver *b)
{
	bool an = a->kind == KVER_NEXT, bn = b->kind == KVER_NEXT;
	if (an || bn)
		return an && bn ? cmp_u(a->next, b->next) : (an ? 1 : -1);
	int c = cmp_u(a->major, b->major);
	if (!c)
		c = cmp_u(a->minor, b->minor);
	if (!c)
		c = cmp_u(a->sub, b->sub);
	if (!c) {
		/* An rc comes before its release; rc1 before rc2. */
		bool ar = a->kind == KVER_RC, br = b->kind == KVER_RC;
		if (ar != br)
			c = ar ? -1 : 1;
		else if (ar)
			c = cmp_u(a->rc, b->rc);
	}
	return c;
}

bool kver_same_series(const struct kver *a, const struct kver *b)
{
	return a->kind != KVER_NEXT && b->kind != KVER_NEXT &&
	       a->major == b->major && a->minor == b->minor;
}

void kver_str(const struct kver *v, char buf[KVER_STR_MAX])
{
	if (v->kind == KVER_NEXT)
		snprintf(buf, KVER_STR_MAX, "next-%08u", v->next);
	else if (v->kind == KVER_RC)
		snprintf(buf, KVER_STR_MAX, "%u.%u-rc%u", v->major, v->minor, v->rc);
	else if (v->sub)
		snprintf(buf, KVER_STR_MAX, "%u.%u.%u", v->major, v->minor, v->sub);
	else
		snprintf(buf, KVER_STR_MAX, "%u.%u", v->major, v->minor);
}

void kver_release_str(const struct kver *v, char buf[KVER_STR_MAX])
{
	if (v->kind == KVER_NEXT)
		kver_str(v, buf);
	else if (v->kind == KVER_RC)
		snprintf(buf, KVER_STR_MAX, "%u.%u.0-rc%u", v->major, v->minor, v->rc);
	else
		snprintf(buf, KVER_STR_MAX, "%u.%u.%u", v->major, v->minor, v->sub);
}

void kver_series_str(const struct kver *v, char buf[KVER_STR_MAX])
{
	snprintf(buf, KVER_STR_MAX, "%u.%u", v->major, v->minor);
}

void kver_tarball_base(const struct kver *v, char buf[KVER_STR_MAX])
{
	char s[KVER_STR_MAX];
	if (v->kind != KVER_RELEASE) {
		buf[0] = '\0';
		return;
	}
	kver_str(v, s);
	snprintf(buf, KVER_STR_MAX, "linux-%s", s);
}

void kver_series_dir(const struct kver *v, char buf[KVER_STR_MAX])
{
	snprintf(buf, KVER_STR_MAX, "v%u.x", v->major);
}

int kver_from_tarball(const char *name, struct kver *v)
{
	char tmp[64];
	size_t n = strlen(name);
	if (!startswith(name, "linux-") || !endswith(name, ".tar.xz") || n - 13 >= sizeof(tmp) || n < 14)
		return -ACSO_E_PARSE;
	memcpy(tmp, name + 6, n - 13);
	tmp[n - 13] = '\0';
	if (kver_parse(tmp, v, NULL) < 0 || v->kind != KVER_RELEASE)
		return -ACSO_E_PARSE;
	/* kernel.org writes X.Y for X.Y.0: a ".0" name is not one of its tarballs. */
	char canon[KVER_STR_MAX];
	kver_str(v, canon);
	return strcmp(canon, tmp) ? -ACSO_E_PARSE : 0;
}

/* ---- identifying a running kernel ------------------------------------- */

/* Flavours that tell Debian and Ubuntu kernels apart when nothing else does. */
static const char *const debian_flavours[] = {
	"amd64", "cloud-amd64", "rt-amd64", "arm64", "rt-arm64", "cloud-arm64", "686", "686-pae",
	"armmp", "armmp-lpae", "powerpc64le", "s390x", NULL,
};
static const char *const ubuntu_flavours[] = {
	"generic", "lowlatency", "generic-lpae", "generic-64k", "aws", "azure", "gcp", "gke",
	"oracle", "kvm", "oem", "ibm", "raspi", "nvidia", "intel-iotg", NULL,
};

/* A package or ABI number ("76060903", "150400"): up to 9 digits. */
static int take_abi(const char **p, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9' && n < 9)
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n == 0 || (s[n] >= '0' && s[n] <= '9'))
		return -1;
	*out = v;
	*p = s + n;
	return 0;
}

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return true;
	return false;
}

/* The part of a /proc/version line that uname -v prints: from the build
 * counter "#N" on. What comes before names the builder and the compiler
 * ("(gcc-12 (Debian 12.2.0-14) 12.2.0, ...)"): its versions are not the
 * kernel's. A /proc/version line without "#N" has no uname -v part; any
 * other string is taken as a uname -v. */
static const char *uname_v_part(const char *version)
{
	if (!version)
		return NULL;
	for (const char *p = strchr(version, '#'); p; p = strchr(p + 1, '#'))
		if (p[1] >= '0' && p[1] <= '9')
			return p;
	return startswith(version, "Linux version ") ? "" : version;
}

/* The words "TAG [EPOCH:]X.Y[.Z]-REV" in uv (TAG "Debian " or "PMX "):
 * how many, the last in *up, *conflict when two name different versions. */
static int tagged_versions(const char *uv, const char *tag, struct kver *up, bool *conflict)
{
	size_t tl = strlen(tag);
	int n = 0;
	*conflict = false;
	for (const char *p = uv; (p = strstr(p, tag)); p += tl) {
		if (p > uv && p[-1] != ' ')
			continue;
		const char *q = p + tl, *after_epoch = q;
		unsigned epoch;
		if (take_num(&after_epoch, &epoch) == 0 && *after_epoch == ':')
			q = after_epoch + 1; /* Raspberry Pi OS: "Debian 1:6.12.25-1+rpt1" */
		struct kver v;
		bool had_sub;
		if (take_xyz(&q, &v, &had_sub) < 0 || !*q || !strchr("-~+", *q))
			continue;
		if (n && kver_cmp(&v, up))
			*conflict = true;
		*up = v;
		n++;
	}
	return n;
}

static void set_known(struct kident *k, const struct kver *v, const char *from)
{
	k->upstream = *v;
	k->upstream_known = true;
	k->upstream_from = from;
}

/* Upstream from uname -v's "TAG X.Y.Z-N" (the vendor's package version),
 * when it names one version of the release's series; else why not. */
static bool from_tag(struct kident *k, const char *uv, const char *tag, const struct kver *series)
{
	struct kver up;
	bool conflict;
	int n = uv ? tagged_versions(uv, tag, &up, &conflict) : 0;
	if (!uv)
		k->upstream_unknown_why = "the release carries the package's ABI number, not the sublevel; "
					  "uname -v (/proc/version) names the kernel's version";
	else if (n == 0)
		k->upstream_unknown_why = "uname -v (/proc/version) names no kernel package version after '#'";
	else if (conflict)
		k->upstream_unknown_why = "uname -v (/proc/version) names two different kernel versions";
	else if (!kver_same_series(&up, series))
		k->upstream_unknown_why = "uname -v (/proc/version) names a kernel version of another series "
					  "than the release";
	else {
		set_known(k, &up, "uname -v");
		k->upstream_unknown_why = NULL;
		return true;
	}
	return false;
}

/* A vendor kernel that follows upstream point releases: the upstream
 * version from uname -v's "TAG X.Y.Z-N" when tag is given and names it,
 * else from the release (with a tag: only a non-zero sublevel). */
static int vendor(struct kident *k, const char *distro, const char *label, const char *uv, const char *tag,
		  const struct kver *v)
{
	k->distro = distro;
	snprintf(k->label, sizeof(k->label), "%s", label);
	if (tag && from_tag(k, uv, tag, v))
		return 0;
	if (!tag || v->sub) {
		set_known(k, v, "uname -r");
		k->upstream_unknown_why = NULL;
	}
	return 0;
}

/* "Debian 13", "Debian 12 backports": from "+deb13" in the release,
 * "~bpo12+1" / "+deb10u1" in the package version; none when neither says
 * more than "debian". */
static void debian_label(struct kident *k, const char *local, const char *uv)
{
	const char *m;
	unsigned n = 0;
	bool bpo = strstr(local, "+bpo") != NULL;
	if (uv && (m = strstr(uv, "~bpo"))) {
		m += 4;
		bpo = take_num(&m, &n) == 0 || bpo;
	} else if ((m = strstr(local, "+deb"))) {
		m += 4;
		(void)take_num(&m, &n);
	} else if (uv && (m = strstr(uv, "+deb"))) {
		m += 4;
		(void)take_num(&m, &n);
	}
	if (n)
		snprintf(k->label, sizeof(k->label), "Debian %u%s", n, bpo ? " backports" : "");
	else if (bpo)
		snprintf(k->label, sizeof(k->label), "Debian backports");
}

static int set_given(struct kident *k, const char *s)
{
	size_t n = strcspn(s, "\n");
	if (n >= sizeof(k->given))
		return -1;
	memcpy(k->given, s, n);
	k->given[n] = '\0';
	return 0;
}

/* "Ubuntu 5.3.0-24.26-generic 5.3.13" */
static int parse_signature(const char *sig, struct kident *k)
{
	char rel[128], up[64];
	struct kver v;
	bool had_sub;
	if (sscanf(sig, "Ubuntu %127s %63s", rel, up) != 2)
		return -1;
	const char *p = rel;
	if (take_xyz(&p, &k->series, &had_sub) < 0)
		return -1;
	/* The mainline version is the last field; Ubuntu writes X.Y.0 as X.Y.0 too. */
	const char *q = up;
	if (take_xyz(&q, &v, &had_sub) < 0 || (*q && *q != '-' && *q != '+'))
		return -1;
	set_known(k, &v, "version_signature");
	k->distro = "ubuntu";
	return 0;
}

/* A uname -v given alone: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (...)". */
static int from_uname_v(const char *uv, struct kident *k, struct acso_err *e)
{
	struct kver up;
	bool conflict;
	bool pmx = tagged_versions(uv, "PMX ", &up, &conflict) > 0;
	if (!pmx && tagged_versions(uv, "Debian ", &up, &conflict) == 0)
		return err_set(e, -ACSO_E_PARSE, "'%.64s' names no upstream version", uv);
	if (conflict)
		return err_set(e, -ACSO_E_PARSE, "'%.64s' names two different kernel versions", uv);
	k->distro = pmx ? "proxmox" : strstr(uv, "+rpt") ? "raspberrypi" : "debian";
	if (pmx)
		snprintf(k->label, sizeof(k->label), "Proxmox VE");
	else if (strstr(uv, "+rpt"))
		snprintf(k->label, sizeof(k->label), "Raspberry Pi OS");
	else
		debian_label(k, "", uv);
	k->series = up;
	k->series.sub = 0;
	set_known(k, &up, "uname -v");
	return 0;
}

/* WSL 1 answers uname with "4.4.0-19041-Microsoft" (3.4.0-Microsoft on
 * the first builds): Windows translating Linux system calls, no Linux
 * kernel at all. WSL 2's "-microsoft-standard-WSL2" is a Linux kernel. */
static bool is_wsl1(const char *local)
{
	size_t n = strlen(local);
	return n >= 10 && !strcmp(local + n - 10, "-Microsoft");
}

/* SUSE: "-default" flavour, or SUSE's compiler and build host in /proc/version. */
static bool is_suse(const char *local, const char *version)
{
	return endswith(local, "-default") ||
	       (version && (strstr(version, "(SUSE Linux)") || strstr(version, "geeko@buildhost")));
}

static void suse(struct kident *k, const struct kver *v, const char *local)
{
	unsigned code = 0;
	const char *q = local + 1;
	k->distro = "suse";
	if (*local == '-' && startswith(q, "lp") && (q += 2, take_num(&q, &code) == 0) && code >= 100)
		snprintf(k->label, sizeof(k->label), "openSUSE Leap %u.%u", code / 10, code % 10);
	else if (*local == '-' && take_abi(&q, &code) == 0 && code >= 120000 && code < 999999)
		/* 150400: SUSE Linux Enterprise 15 SP4, and Leap 15.4 on its kernel */
		snprintf(k->label, sizeof(k->label), "SUSE Linux Enterprise %u SP%u", code / 10000, code / 100 % 100);
	else
		snprintf(k->label, sizeof(k->label), "SUSE");
	if (v->sub || code < 120000)
		set_known(k, v, "uname -r");
	else
		k->upstream_unknown_why = "on an enterprise kernel X.Y.0 is the frozen base its vendor "
					  "backports into, not an upstream point release";
}

int kident_parse(const char *release, const char *version, const char *signature,
		 struct kident *k, struct acso_err *e)
{
	memset(k, 0, sizeof(*k));
	k->distro = "unknown";
	if (!release || !*release || set_given(k, release) < 0)
		return err_set(e, -ACSO_E_PARSE, "'%.64s' is not a kernel release", release ? release : "");

	/* A whole version_signature given as the release. */
	if (startswith(release, "Ubuntu ")) {
		if (parse_signature(release, k) < 0)
			return err_set(e, -ACSO_E_PARSE, "'%.64s' is not an Ubuntu version_signature", release);
		return 0;
	}
	/* A /proc/version line or a uname -v given as the release. */
	char relbuf[128];
	if (startswith(release, "Linux version ")) {
		if (sscanf(release + 14, "%127s", relbuf) != 1)
			return err_set(e, -ACSO_E_PARSE, "'%.64s' is not a /proc/version line", release);
		version = release;
		release = relbuf;
	} else if (release[0] == '#') {
		return from_uname_v(release, k, e);
	}

	const char *p = release;
	bool had_sub;
	struct kver v;
	if (take_xyz(&p, &v, &had_sub) < 0 || (*p && *p != '-' && *p != '+' && *p != '_' && *p != '.'))
		return err_set(e, -ACSO_E_PARSE, "'%.64s' is not a kernel release (expected X.Y.Z[-...])", release);
	if (strlen(p) >= sizeof(k->local))
		return err_set(e, -ACSO_E_PARSE, "'%.64s' is too long for a kernel release", release);
	snprintf(k->local, sizeof(k->local), "%s", p);
	if (is_wsl1(p))
		return err_set(e, -ACSO_E_UNSUPPORTED, "'%.64s' is WSL 1, Windows' own layer under Linux programs, "
			       "not a Linux kernel: there is no kernel here acso can build for or boot", release);
	if (startswith(p, "-rc")) {
		/* 7.3.0-rc4: an upstream release candidate. */
		struct kver rc;
		char tmp[KVER_STR_MAX];
		snprintf(tmp, sizeof(tmp), "%u.%u%.*s", v.major, v.minor, (int)strcspn(p, "+_."), p);
		if (v.sub == 0 && kver_parse(tmp, &rc, NULL) == 0) {
			k->series = v;
			set_known(k, &rc, "uname -r");
			k->distro = "upstream";
			return 0;
		}
	}
	k->series = v;
	k->series.sub = 0;

	if (signature && *signature) {
		if (parse_signature(signature, k) < 0)
			return err_set(e, -ACSO_E_PARSE, "'%.64s' is not an Ubuntu version_signature", signature);
		return 0;
	}
	if (strstr(p, ".fc") || strstr(p, ".el") || strstr(p, ".vz")) {
		/* Fedora and the RHEL family (clones, Oracle UEK, Nutanix AHV,
		 * Virtuozzo) name the upstream version first. A non-zero
		 * sublevel is the upstream one (4.19.84-2.el7.nutanix...). On an
		 * enterprise kernel X.Y.0 is the frozen base the vendor backports
		 * into (3.10.0-1160.el7): no upstream point release matches it. */
		k->distro = strstr(p, ".fc") ? "fedora" : "rhel";
		if (k->distro[0] == 'f' || v.sub)
			set_known(k, &v, "uname -r");
		else
			k->upstream_unknown_why = "on an enterprise kernel X.Y.0 is the frozen base its vendor "
						  "backports into, not an upstream point release";
		return 0;
	}
	if (strstr(p, "-arch")) {
		k->distro = "arch";
		set_known(k, &v, "uname -r");
		return 0;
	}
	const char *uv = uname_v_part(version);
	/* Proxmox VE: "6.8.12-13-pve", uname -v "... PMX 6.8.12-13 (...)". */
	if (endswith(p, "-pve") || (uv && strstr(uv, "PMX ")))
		return vendor(k, "proxmox", "Proxmox VE", uv, "PMX ", &v);
	/* Liquorix (Zen on Debian): "6.5.8-1-liquorix-amd64"; its uname -v
	 * names only the series ("liquorix 6.5-9.1~trixie"). */
	if (strstr(p, "-liquorix"))
		return vendor(k, "liquorix", "Liquorix", uv, NULL, &v);
	/* Raspberry Pi OS: "6.12.25+rpt-rpi-v8" or "6.1.0-rpi7-rpi-v8",
	 * uname -v "... Debian 1:6.12.25-1+rpt1 (...)". */
	if (strstr(p, "+rpt") || startswith(p, "-rpi") || (uv && strstr(uv, "+rpt")))
		return vendor(k, "raspberrypi", "Raspberry Pi OS", uv, "Debian ", &v);
	if (strstr(p, "-microsoft-standard"))
		return vendor(k, "wsl2", "WSL 2", uv, NULL, &v);
	if (is_suse(p, version)) {
		suse(k, &v, p);
		return 0;
	}
	/* Debian and Ubuntu: X.Y.0-ABI-flavour, where .0 is not the sublevel. */
	const char *q = p;
	unsigned abi, dummy;
	if (*q == '-' && (q++, take_abi(&q, &abi) == 0)) {
		if (*q == '.')
			q++, (void)take_num(&q, &dummy);
		if (*q == '-' && q[1]) {
			const char *flavour = q + 1;
			bool deb = (uv && strstr(uv, "Debian")) || in_list(flavour, debian_flavours);
			bool ubu = (uv && strstr(uv, "Ubuntu")) || in_list(flavour, ubuntu_flavours);
			if (deb && !ubu) {
				k->distro = "debian";
				debian_label(k, p, uv);
				from_tag(k, uv, "Debian ", &v);
				return 0;
			}
			if (ubu) {
				k->distro = "ubuntu";
				/* Pop!_OS: "6.9.3-76060903-generic", 76 then XXYYZZ */
				if (v.sub && v.major < 100 && v.minor < 100 && v.sub < 100 &&
				    abi == 76000000u + v.major * 10000u + v.minor * 100u + v.sub) {
					k->distro = "pop";
					snprintf(k->label, sizeof(k->label), "Pop!_OS");
				}
				if (v.sub)
					set_known(k, &v, "uname -r");
				else
					k->upstream_unknown_why = "Ubuntu's release carries the ABI number, not the sublevel; "
								  "/proc/version_signature names the upstream version";
				return 0;
			}
		}
	}
	/* Debian 13 and backports ("6.12.63+deb13-amd64", "6.12.9+bpo-amd64")
	 * and others: uname -v decides. */
	struct kver dup;
	bool conflict;
	if (uv && tagged_versions(uv, "Debian ", &dup, &conflict) && !conflict && kver_same_series(&dup, &v)) {
		k->distro = "debian";
		debian_label(k, p, uv);
		set_known(k, &dup, "uname -v");
		return 0;
	}
	if (startswith(p, "+deb") || startswith(p, "+bpo")) {
		k->distro = "debian";
		debian_label(k, p, uv);
		if (v.sub)
			set_known(k, &v, "uname -r");
		else
			from_tag(k, uv, "Debian ", &v);
		return 0;
	}
	/* Anything else: an upstream build with a local suffix ("6.8.0-acso"). */
	k->distro = "upstream";
	set_known(k, &v, "uname -r");
	return 0;
}
