/* deb.c — read a .deb with libarchive: ar -> control.tar.* -> control. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "package/deb.h"
#include "base/decompress.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/util.h"

#define CONTROL_TAR_MAX (16u << 20) /* control.tar.* member */
#define CONTROL_MAX     (1u << 20)  /* the control file itself */

void deb_info_free(struct deb_info *d)
{
	free(d->package);
	free(d->version);
	free(d->architecture);
	free(d->source);
	memset(d, 0, sizeof(*d));
}

static int valid_field_value(const char *v)
{
	if (!*v)
		return 0;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return 0;
	return 1;
}

int deb_parse_control(const char *text, struct deb_info *out, struct acso_err *e)
{
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len == 0)
			break; /* end of the first paragraph */
		if (*p != ' ' && *p != '\t') {
			const char *colon = memchr(p, ':', len);
			if (!colon)
				return err_set(e, -ACSO_E_PARSE, "control: line without a field name");
			_cleanup_free_ char *name = xstrndup(p, (size_t)(colon - p));
			const char *v = colon + 1;
			while (v < p + len && (*v == ' ' || *v == '\t'))
				v++;
			_cleanup_free_ char *value = xstrndup(v, (size_t)(p + len - v));
			strip_trailing(value);
			char **slot = NULL;
			if (!strcasecmp(name, "Package"))
				slot = &out->package;
			else if (!strcasecmp(name, "Version"))
				slot = &out->version;
			else if (!strcasecmp(name, "Architecture"))
				slot = &out->architecture;
			else if (!strcasecmp(name, "Source"))
				slot = &out->source;
			if (slot) {
				if (*slot)
					return err_set(e, -ACSO_E_PARSE, "control: field '%s' twice", name);
				if (!valid_field_value(value))
					return err_set(e, -ACSO_E_PARSE, "control: field '%s' has an invalid value", name);
				*slot = TAKE_PTR(value);
			}
		}
		p += len + (eol ? 1 : 0);
	}
	if (!out->package)
		return err_set(e, -ACSO_E_PARSE, "control: no Package field");
	if (!out->version)
		return err_set(e, -ACSO_E_PARSE, "control: no Version field");
	if (!out->architecture)
		return err_set(e, -ACSO_E_PARSE, "control: no Architecture field");
	return 0;
}

/* Read the current entry's data, at most max bytes. */
static int read_entry(struct archive *a, struct archive_entry *ent, size_t max, struct buf *b,
		      const char *what, struct acso_err *e)
{
	if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > (int64_t)max)
		return err_set(e, -ACSO_E_TOOBIG, "%s is larger than %zu bytes", what, max);
	char chunk[65536];
	for (;;) {
		la_ssize_t n = archive_read_data(a, chunk, sizeof(chunk));
		if (n < 0)
			return err_set(e, -ACSO_E_PARSE, "%s: %s", what, archive_error_string(a));
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > max)
			return err_set(e, -ACSO_E_TOOBIG, "%s is larger than %zu bytes", what, max);
		buf_append(b, chunk, (size_t)n);
	}
}

static int control_from_tar(const struct buf *tar, struct deb_info *out, struct acso_err *e)
{
	struct archive *a = archive_read_new();
	/* What dpkg-deb writes: xz, gzip, zstd (Ubuntu), bzip2 (old) or none. */
	decomp_support_builtin(a, DECOMP_ALL);
	archive_read_support_format_tar(a);
	int r;
	if (archive_read_open_memory(a, tar->data, tar->len) != ARCHIVE_OK) {
		r = err_set(e, -ACSO_E_PARSE, "control.tar: %s", archive_error_string(a));
		goto free_archive;
	}
	struct archive_entry *ent;
	r = err_set(e, -ACSO_E_PARSE, "not a Debian package: control.tar has no control file");
	int rr;
	while ((rr = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		if (strcmp(name, "./control") && strcmp(name, "control"))
			continue;
		if (archive_entry_filetype(ent) != AE_IFREG) {
			r = err_set(e, -ACSO_E_PARSE, "control.tar: control is not a regular file");
			goto free_archive;
		}
		struct buf b = {0};
		err_clear(e);
		r = read_entry(a, ent, CONTROL_MAX, &b, "control", e);
		if (r == 0)
			r = deb_parse_control(buf_str(&b), out, e);
		buf_free(&b);
		goto free_archive;
	}
	if (rr != ARCHIVE_EOF)
		r = err_set(e, -ACSO_E_PARSE, "control.tar: %s", archive_error_string(a));
free_archive:
	archive_read_free(a);
	return r;
}

int sha256_file(const char *path, char hex[65], uint64_t *size, struct acso_err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "'%s': %s", path, strerror(errno));
	struct hash *h = hash_new("sha256");
	char chunk[1 << 16];
	uint64_t total = 0;
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			hash_free(h);
			return err_set(e, r, "read '%s': %s", path, strerror(-r));
		}
		hash_update(h, chunk, (size_t)n);
		total += (uint64_t)n;
	}
	char full[HASH_HEX_MAX];
	hash_final_hex(h, full);
	memcpy(hex, full, 65);
	if (size)
		*size = total;
	return 0;
}

int deb_read(const char *path, struct deb_info *out, struct acso_err *e)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	if (stat(path, &st) < 0)
		return err_set(e, -errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, -ACSO_E_PARSE, "not a regular file");

	struct archive *a = archive_read_new();
	archive_read_support_format_ar(a);
	int r;
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		r = err_set(e, -ACSO_E_PARSE, "not a Debian package: %s", archive_error_string(a));
		goto free_archive;
	}
	struct archive_entry *ent;
	bool seen_binary = false;
	r = 0;
	for (;;) {
		int rr = archive_read_next_header(a, &ent);
		if (rr == ARCHIVE_EOF) {
			r = err_set(e, -ACSO_E_PARSE, "not a Debian package: no control.tar member");
			goto free_archive;
		}
		if (rr != ARCHIVE_OK) {
			r = err_set(e, -ACSO_E_PARSE, "not a Debian package: %s", archive_error_string(a));
			goto free_archive;
		}
		const char *name = archive_entry_pathname(ent);
		if (!seen_binary) {
			struct buf b = {0};
			r = strcmp(name, "debian-binary") ? -ACSO_E_PARSE
							  : read_entry(a, ent, 64, &b, "debian-binary", e);
			bool ok = r == 0 && startswith(buf_str(&b), "2.");
			buf_free(&b);
			if (!ok) {
				r = err_set(e, -ACSO_E_PARSE, "not a Debian package: no debian-binary 2.x member first");
				goto free_archive;
			}
			seen_binary = true;
			continue;
		}
		if (startswith(name, "control.tar")) {
			struct buf b = {0};
			r = read_entry(a, ent, CONTROL_TAR_MAX, &b, "control.tar", e);
			if (r == 0)
				r = control_from_tar(&b, out, e);
			buf_free(&b);
			goto free_archive;
		}
	}
free_archive:
	archive_read_free(a);
	if (r == 0)
		r = sha256_file(path, out->sha256, &out->size, e);
	if (r < 0)
		deb_info_free(out);
	return r;
}

enum deb_kind deb_kind(const char *package, char *release, size_t n)
{
	static const struct { const char *prefix; enum deb_kind kind; } kinds[] = {
		{"linux-image-", DEB_IMAGE},
		{"linux-headers-", DEB_HEADERS},
	};
	if (release && n)
		release[0] = '\0';
	if (!strcmp(package, "linux-libc-dev"))
		return DEB_LIBC_DEV;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!startswith(package, kinds[i].prefix))
			continue;
		const char *rel = package + strlen(kinds[i].prefix);
		size_t len = strlen(rel);
		enum deb_kind k = kinds[i].kind;
		if (k == DEB_IMAGE && endswith(rel, "-dbg")) {
			k = DEB_DBG;
			len -= 4;
		}
		/* A release starts with a digit: "linux-image-amd64" is a meta package. */
		if (!len || rel[0] < '0' || rel[0] > '9')
			return DEB_OTHER;
		if (release)
			snprintf(release, n, "%.*s", (int)len, rel);
		return k;
	}
	return DEB_OTHER;
}
