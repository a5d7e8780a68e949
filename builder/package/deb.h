/* deb.h — read a Debian binary package (.deb) without dpkg: the outer ar
 * archive, its control.tar.{gz,xz,zst}, the control file's fields, the file
 * size and its SHA-256. Every size read from the package has a limit. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct acso_err;

struct deb_info {
	char *package;      /* Package: */
	char *version;      /* Version: */
	char *architecture; /* Architecture: */
	char *source;       /* Source: (may be NULL) */
	uint64_t size;      /* bytes of the .deb file */
	char sha256[65];    /* lower-case hex */
};

/* Read path. Returns 0, or -ACSO_E_PARSE ("not a Debian package: ..."),
 * -ACSO_E_TOOBIG, -errno, with a detail in e. */
int deb_read(const char *path, struct deb_info *out, struct acso_err *e);
void deb_info_free(struct deb_info *d);

/* Parse the fields of a control file (RFC 822 style, one paragraph).
 * Missing Package/Version/Architecture is -ACSO_E_PARSE. */
int deb_parse_control(const char *text, struct deb_info *out, struct acso_err *e);

/* SHA-256 of a file as lower-case hex; also its size. */
int sha256_file(const char *path, char hex[65], uint64_t *size, struct acso_err *e);

enum deb_kind { DEB_OTHER, DEB_IMAGE, DEB_HEADERS, DEB_DBG, DEB_LIBC_DEV };
/* What a kernel package is, by its name, and the kernel release it is for:
 * "linux-image-6.1.192-acso" -> DEB_IMAGE, "6.1.192-acso";
 * "linux-image-6.1.192-acso-dbg" -> DEB_DBG; "linux-libc-dev" -> DEB_LIBC_DEV
 * (release ""). release may be NULL. */
enum deb_kind deb_kind(const char *package, char *release, size_t n);
