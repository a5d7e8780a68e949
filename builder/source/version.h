/* version.h — kernel version strings: parse, compare, name tarballs, and
 * identify a running kernel (uname -r, /proc/version, Ubuntu's
 * /proc/version_signature) as distro + series + upstream version.
 *
 * "6.8" and "6.8.0" are the same version (the kernel built from
 * linux-6.8.tar.xz reports 6.8.0); the tarball name has no ".0".
 * Versions compare as numbers: 5.10 > 5.4, 7.3-rc4 < 7.3. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct acso_err;

enum kver_kind { KVER_RELEASE, KVER_RC, KVER_NEXT };

struct kver {
	enum kver_kind kind;
	unsigned major, minor, sub; /* sub 0 for "6.8" */
	unsigned rc;                /* N of -rcN (KVER_RC) */
	unsigned next;              /* YYYYMMDD of next-YYYYMMDD (KVER_NEXT) */
};

#define KVER_STR_MAX 32

/* Strict parse of an upstream version: "6.8", "6.8.0", "5.10.1", "7.3-rc4",
 * "next-20260925". Anything else (suffixes, signs, leading zeros, empty
 * components, numbers over 65535) is -ACSO_E_PARSE with a detail in e. */
int kver_parse(const char *s, struct kver *v, struct acso_err *e);
/* Series "X.Y" only (for --series). */
int kver_parse_series(const char *s, struct kver *v, struct acso_err *e);
/* <0, 0, >0. Releases and rcs compare by numbers (rc before its release);
 * linux-next snapshots compare by date and after every numbered version. */
int kver_cmp(const struct kver *a, const struct kver *b);
/* Same series X.Y? */
bool kver_same_series(const struct kver *a, const struct kver *b);
/* kernel.org's spelling: "6.8" (never "6.8.0"), "6.8.1", "7.3-rc4", "next-20260925". */
void kver_str(const struct kver *v, char buf[KVER_STR_MAX]);
/* What the built kernel reports: "6.8.0", "6.8.1", "7.3.0-rc4". */
void kver_release_str(const struct kver *v, char buf[KVER_STR_MAX]);
/* "X.Y" */
void kver_series_str(const struct kver *v, char buf[KVER_STR_MAX]);
/* "linux-6.8" (base name without extension); "" for rc/next (no tarball). */
void kver_tarball_base(const struct kver *v, char buf[KVER_STR_MAX]);
/* "v6.x" */
void kver_series_dir(const struct kver *v, char buf[KVER_STR_MAX]);
/* A tarball name "linux-X.Y[.Z].tar.xz" back to a version; -ACSO_E_PARSE
 * for anything else (including "linux-6.8.0.tar.xz", which kernel.org
 * never publishes). */
int kver_from_tarball(const char *name, struct kver *v);

/* A kernel identified from what it says about itself. */
struct kident {
	char given[256];          /* the release (uname -r) or the string given */
	const char *distro;       /* "debian" "ubuntu" "fedora" "rhel" "arch" "proxmox"
				   * "raspberrypi" "pop" "suse" "liquorix" "wsl2" "upstream" "unknown" */
	struct kver series;       /* X.Y */
	bool upstream_known;
	struct kver upstream;     /* exact upstream version when knowable */
	const char *upstream_from;/* "version_signature" "uname -v" "uname -r" or NULL */
	const char *upstream_unknown_why; /* why not, when the release string says why; else NULL */
	char local[128];          /* the part after X.Y.Z in uname -r ("-24-generic") */
	char label[64];           /* for people, when it says more than distro: "Debian 13",
				   * "Debian 12 backports", "Raspberry Pi OS", "Proxmox VE",
				   * "Pop!_OS", "SUSE Linux Enterprise 15 SP4"; else "" */
};

/* Identify from uname -r (required), uname -v or /proc/version (may be NULL)
 * and Ubuntu's /proc/version_signature (may be NULL). release may also be a
 * whole version_signature ("Ubuntu 5.3.0-24.26-generic 5.3.13") or a
 * /proc/version / uname -v line ("... Debian 6.1.90-1 (2024-05-03)"). Only
 * the uname -v part of /proc/version (from "#N" on) names the kernel's
 * package version: the compiler's "(Debian 12.2.0-14)" before it does not.
 * -ACSO_E_PARSE for garbage; -ACSO_E_UNSUPPORTED for WSL 1, which is no
 * Linux kernel. When upstream_known is false, upstream_unknown_why says why. */
int kident_parse(const char *release, const char *version, const char *signature,
		 struct kident *k, struct acso_err *e);
