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

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return true;
	return false;
}

/* Upstream version from a Debian "uname -v" / /proc/version: "... Debian 6.1.90-1 (...)". */
static bool debian_upstream(const char *version, struct kver *up)
{
	const char *p = version;
	while ((p = strstr(p, "Debian "))) {
		const char *q = p + 7;
		bool had_sub;
		struct kver v;
		if (take_xyz(&q, &v, &had_sub) == 0 && (*q == '-' || *q == '~' || *q == '+')) {
			*up = v;
			return true;
		}
		p += 7;
	}
	return false;
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
	k->upstream = v;
	k->upstream_known = true;
	k->upstream_from = "version_signature";
	k->distro = "ubuntu";
	return 0;
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
		struct kver up;
		if (!debian_upstream(release, &up))
			return err_set(e, -ACSO_E_PARSE, "'%.64s' names no upstream version", release);
		k->distro = "debian";
		k->series = up;
		k->series.sub = 0;
		k->upstream = up;
		k->upstream_known = true;
		k->upstream_from = "uname -v";
		return 0;
	}

	const char *p = release;
	bool had_sub;
	struct kver v;
	if (take_xyz(&p, &v, &had_sub) < 0 || (*p && *p != '-' && *p != '+' && *p != '_' && *p != '.'))
		return err_set(e, -ACSO_E_PARSE, "'%.64s' is not a kernel release (expected X.Y.Z[-...])", release);
	if (strlen(p) >= sizeof(k->local))
		return err_set(e, -ACSO_E_PARSE, "'%.64s' is too long for a kernel release", release);
	snprintf(k->local, sizeof(k->local), "%s", p);
	if (startswith(p, "-rc")) {
		/* 7.3.0-rc4: an upstream release candidate. */
		struct kver rc;
		char tmp[KVER_STR_MAX];
		snprintf(tmp, sizeof(tmp), "%u.%u%.*s", v.major, v.minor, (int)strcspn(p, "+_."), p);
		if (v.sub == 0 && kver_parse(tmp, &rc, NULL) == 0) {
			k->series = v;
			k->upstream = rc;
			k->upstream_known = true;
			k->upstream_from = "uname -r";
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
		if (k->distro[0] == 'f' || v.sub) {
			k->upstream = v;
			k->upstream_known = true;
			k->upstream_from = "uname -r";
		} else {
			k->upstream_unknown_why = "on an enterprise kernel X.Y.0 is the frozen base its vendor "
						  "backports into, not an upstream point release";
		}
		return 0;
	}
	if (strstr(p, "-arch")) {
		k->distro = "arch";
		k->upstream = v;
		k->upstream_known = true;
		k->upstream_from = "uname -r";
		return 0;
	}
	/* Debian and Ubuntu: X.Y.0-ABI-flavour, where .0 is not the sublevel. */
	const char *q = p;
	unsigned abi, dummy;
	if (*q == '-' && (q++, take_num(&q, &abi) == 0)) {
		if (*q == '.')
			q++, (void)take_num(&q, &dummy);
		if (*q == '-' && q[1]) {
			const char *flavour = q + 1;
			bool deb = (version && strstr(version, "Debian")) || in_list(flavour, debian_flavours);
			bool ubu = (version && strstr(version, "Ubuntu")) || in_list(flavour, ubuntu_flavours);
			if (deb && !ubu) {
				k->distro = "debian";
				struct kver up;
				if (version && debian_upstream(version, &up) && kver_same_series(&up, &v)) {
					k->upstream = up;
					k->upstream_known = true;
					k->upstream_from = "uname -v";
				}
				return 0;
			}
			if (ubu) {
				k->distro = "ubuntu";
				return 0;
			}
		}
	}
	/* Debian backports and others ("6.12.9+bpo-amd64"): uname -v decides. */
	struct kver dup;
	if (version && debian_upstream(version, &dup) && kver_same_series(&dup, &v)) {
		k->distro = "debian";
		k->upstream = dup;
		k->upstream_known = true;
		k->upstream_from = "uname -v";
		return 0;
	}
	/* Anything else: an upstream build with a local suffix ("6.8.0-acso"). */
	k->distro = "upstream";
	k->upstream = v;
	k->upstream_known = true;
	k->upstream_from = "uname -r";
	return 0;
}
