/* prebuilt.c — see prebuilt.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/spawn.h"
#include "package/deb.h"
#include "package/prebuilt.h"
#include "pgp/pgp.h"

#define PREBUILT_KEY_MAX (1u << 20)
#define PREBUILT_LIST_MAX (64u << 20)

char *prebuilt_series_of(const char *release)
{
	const char *dot = strchr(release, '.');
	if (!dot)
		return NULL;
	size_t n = (size_t)(dot - release) + 1 + strspn(dot + 1, "0123456789");
	return n > (size_t)(dot - release) + 1 ? xstrndup(release, n) : NULL;
}

int prebuilt_release_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		if ((*a >= '0' && *a <= '9') && (*b >= '0' && *b <= '9')) {
			unsigned long long x = 0, y = 0;
			while (*a >= '0' && *a <= '9' && x < 1000000000ull)
				x = x * 10 + (unsigned)(*a++ - '0');
			while (*b >= '0' && *b <= '9' && y < 1000000000ull)
				y = y * 10 + (unsigned)(*b++ - '0');
			if (x != y)
				return x < y ? -1 : 1;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return 0;
}

/* A series "6.1" takes "6.1.N..."; a version "6.1.192" takes
 * "6.1.192-..."; a release takes itself. */
static bool matches(const char *release, const char *want)
{
	size_t n = strlen(want);
	if (strncmp(release, want, n))
		return false;
	const char *dot = strchr(want, '.');
	if (!dot)
		return false;
	bool series = !strchr(dot + 1, '.');
	return release[n] == '\0' || release[n] == '-' || (series && release[n] == '.');
}

const char *prebuilt_pick(const struct strv *releases, const char *want)
{
	const char *best = NULL;
	for (size_t i = 0; i < releases->n; i++)
		if (matches(releases->v[i], want) && (!best || prebuilt_release_cmp(releases->v[i], best) > 0))
			best = releases->v[i];
	return best;
}

const char *prebuilt_keyring_path(const char *data, size_t len)
{
	static const char armor[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	return len - i >= sizeof(armor) - 1 && !memcmp(data + i, armor, sizeof(armor) - 1)
		       ? PREBUILT_KEYRINGS "/acso-prebuilt.asc"
		       : PREBUILT_KEYRINGS "/acso-prebuilt.gpg";
}

char *prebuilt_source_text(const char *url, const char *keyring)
{
	size_t n = strlen(url);
	return xasprintf("# The acso prebuilt channel: a flat APT repository signed by the key in\n"
			 "# Signed-By. Written by acso prebuilt; removed by acso prebuilt --remove.\n"
			 "Types: deb\n"
			 "URIs: %s%s\n"
			 "Suites: ./\n"
			 "Signed-By: %s\n",
			 url, n && url[n - 1] == '/' ? "" : "/", keyring);
}

void prebuilt_apt_argv(const char *root, const char *tool, bool only_channel, struct strv *a)
{
	strv_push_chroot(a, root);
	strv_push(a, tool);
	if (only_channel) {
		strv_push(a, "-o");
		strv_push(a, "Dir::Etc::sourcelist=" PREBUILT_SOURCE);
		strv_push(a, "-o");
		strv_push(a, "Dir::Etc::sourceparts=-");
		/* the other sources' lists stay as they are */
		strv_push(a, "-o");
		strv_push(a, "APT::Get::List-Cleanup=0");
		/* a failed download of the channel is an error, not a warning */
		strv_push(a, "-o");
		strv_push(a, "APT::Update::Error-Mode=any");
	}
}

/* The signed part of a clear-signed text (the whole text otherwise). */
static void signed_part(const char *text, size_t len, const char **start, const char **end)
{
	*start = text;
	*end = text + len;
	static const char head[] = "-----BEGIN PGP SIGNED MESSAGE-----";
	if (len < sizeof(head) - 1 || memcmp(text, head, sizeof(head) - 1))
		return;
	const char *body = memmem(text, len, "\n\n", 2);
	*start = body ? body + 2 : *end;
	const char *sig = memmem(*start, (size_t)(*end - *start), "\n-----BEGIN PGP SIGNATURE-----", 30);
	if (sig)
		*end = sig + 1;
}

int prebuilt_release_date(const char *text, size_t len, time_t *date, struct acso_err *e)
{
	const char *p, *end;
	signed_part(text, len, &p, &end);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 6 && !memcmp(p, "Date: ", 6) && n < 64) {
			char v[64];
			memcpy(v, p + 6, n - 6);
			v[n - 6] = '\0';
			struct tm tm = {0};
			const char *rest = strptime(v, "%a, %d %b %Y %H:%M:%S", &tm);
			if (!rest || (strcmp(rest, " UTC") && strcmp(rest, " GMT") && strcmp(rest, " +0000") && strcmp(rest, " Z")))
				return err_set(e, -ACSO_E_PARSE, "Date '%s' is not a UTC date as apt writes it", v);
			*date = timegm(&tm);
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return err_set(e, -ACSO_E_PARSE, "no Date field");
}

/* deb_kind, and the channel's metapackages: "linux-image-acso-6.1" is an
 * image of "release" acso-6.1. */
static enum deb_kind prebuilt_kind(const char *pkg, char *rel, size_t n)
{
	static const char *const meta[] = {"linux-image-acso-", "linux-headers-acso-"};
	for (int i = 0; i < 2; i++)
		if (startswith(pkg, meta[i]) && pkg[strlen(meta[i])] >= '0' && pkg[strlen(meta[i])] <= '9') {
			snprintf(rel, n, "acso-%s", pkg + strlen(meta[i]));
			return i == 0 ? DEB_IMAGE : DEB_HEADERS;
		}
	return deb_kind(pkg, rel, n);
}

void prebuilt_packages_releases(const char *text, size_t len, const char *arch, struct strv *images,
				struct strv *headers)
{
	char pkg[256] = "", parch[64] = "";
	const char *p = text, *end = text + len;
	while (p <= end) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n == 0 || p == end) { /* the end of a stanza */
			char rel[128];
			enum deb_kind k = *pkg && (!arch || !strcmp(parch, arch)) ? prebuilt_kind(pkg, rel, sizeof(rel)) : DEB_OTHER;
			struct strv *to = k == DEB_IMAGE ? images : k == DEB_HEADERS ? headers : NULL;
			if (to && !strv_has(to, rel))
				strv_push(to, rel);
			*pkg = *parch = '\0';
		} else if (n > 9 && n - 9 < sizeof(pkg) && !memcmp(p, "Package: ", 9)) {
			memcpy(pkg, p + 9, n - 9);
			pkg[n - 9] = '\0';
		} else if (n > 14 && n - 14 < sizeof(parch) && !memcmp(p, "Architecture: ", 14)) {
			memcpy(parch, p + 14, n - 14);
			parch[n - 14] = '\0';
		}
		if (p == end)
			break;
		p = nl ? nl + 1 : end;
	}
}

/* Write an absolute path beneath the root atomically. */
static int root_write(int rootfd, const char *path, const void *data, size_t len, struct acso_err *e)
{
	_cleanup_free_ char *dir = xstrndup(path + 1, (size_t)(strrchr(path, '/') - path - 1));
	int r = mkdir_p_at(rootfd, dir, 0755);
	_cleanup_close_ int dfd = r < 0 ? r : root_opendir_fd(rootfd, dir);
	if (dfd < 0)
		return err_set(e, dfd, "'/%s': %s", dir, acso_strerror(dfd));
	r = write_file_atomic(dfd, strrchr(path, '/') + 1, data, len, 0644, 0);
	return r < 0 ? err_set(e, r, "write '%s': %s", path, acso_strerror(r)) : 0;
}

static int root_unlink(int rootfd, const char *path, struct acso_err *e)
{
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, dir);
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : err_set(e, dfd, "'%s': %s", dir, acso_strerror(dfd));
	if (unlinkat(dfd, strrchr(path, '/') + 1, 0) < 0 && errno != ENOENT)
		return err_set(e, -errno, "remove '%s': %s", path, strerror(errno));
	return 0;
}

int prebuilt_add_source(int rootfd, const char *url, const char *key_file, struct acso_err *e)
{
	if ((!startswith(url, "http://") && !startswith(url, "https://")) || strpbrk(url, " \t\r\n#"))
		return err_set(e, -ACSO_E_PARSE, "'%s' is not an http:// or https:// URL", url);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_file_at(AT_FDCWD, key_file, PREBUILT_KEY_MAX, &data, &len);
	if (r < 0)
		return err_set(e, r, "key '%s': %s", key_file, acso_strerror(r));
	/* what apt will pin: at least one OpenPGP public key */
	struct pgp_keyring *kr = NULL;
	r = pgp_keyring_new(&kr);
	if (r == 0)
		r = pgp_keyring_add_data(kr, data, len, e);
	if (r == 0 && pgp_keyring_count(kr) == 0)
		r = err_set(e, -ACSO_E_NOKEY, "no OpenPGP public key in it");
	pgp_keyring_free(kr);
	if (r < 0)
		return err_wrap(e, r, "key '%s'", key_file);
	const char *keyring = prebuilt_keyring_path(data, len);
	const char *other = endswith(keyring, ".asc") ? PREBUILT_KEYRINGS "/acso-prebuilt.gpg"
						      : PREBUILT_KEYRINGS "/acso-prebuilt.asc";
	_cleanup_free_ char *src = prebuilt_source_text(url, keyring);
	if ((r = root_write(rootfd, keyring, data, len, e)) < 0 || (r = root_unlink(rootfd, other, e)) < 0)
		return r;
	return root_write(rootfd, PREBUILT_SOURCE, src, strlen(src), e);
}

int prebuilt_remove_source(int rootfd, bool ledger, struct acso_err *e)
{
	int r = 0;
	const char *paths[] = {PREBUILT_SOURCE, PREBUILT_KEYRINGS "/acso-prebuilt.asc",
			       PREBUILT_KEYRINGS "/acso-prebuilt.gpg", PREBUILT_DATE, PREBUILT_LEDGER};
	for (size_t i = 0; i < ARRAY_SIZE(paths) - !ledger && r == 0; i++)
		r = root_unlink(rootfd, paths[i], e);
	return r;
}

static void push_opts(const struct prebuilt_apt *pa, struct strv *a)
{
	for (size_t i = 0; pa->opts && i < pa->opts->n; i++)
		strv_push(a, pa->opts->v[i]);
}

/* Run an apt tool for the root; its stdout in out (may be NULL). */
static int apt_run(const struct prebuilt_apt *pa, const struct strv *argv, struct buf *out, struct acso_err *e)
{
	static const char *const env[] = {"DEBIAN_FRONTEND=noninteractive", NULL};
	int status = 0;
	struct spawn_opts so = {.env = env, .log_fd = -1, .capture = out, .on_line = out ? NULL : pa->on_line,
				.priv = pa->priv, .quiet = true};
	int r = spawn_run((const char *const *)argv->v, &so, &status);
	if (r < 0)
		return err_set(e, r, "run %s: %s", argv->v[0], acso_strerror(r));
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char how[64];
		spawn_describe(status, how, sizeof(how));
		const char *tool = strcmp(pa->root, "/") ? argv->v[2] : argv->v[0];
		return err_set(e, -ACSO_E_CHILD, "%s %s", tool, how);
	}
	return 0;
}

/* The Date check against the last one seen, which is then advanced. */
static int check_date(int rootfd, time_t date, struct acso_err *e)
{
	_cleanup_free_ char *seen = NULL;
	int r = root_read_file(rootfd, PREBUILT_DATE, 64, &seen, NULL);
	if (r < 0 && r != -ENOENT)
		return err_set(e, r, "'%s': %s", PREBUILT_DATE, acso_strerror(r));
	if (r == 0) {
		uint64_t last = 0;
		strip_trailing(seen);
		if (parse_u64(seen, 10, &last) < 0)
			return err_set(e, -ACSO_E_PARSE, "'%s' holds '%s', not a time", PREBUILT_DATE, seen);
		if ((uint64_t)date < last) {
			char was[32], now[32];
			iso_utc((time_t)last, was, sizeof(was));
			iso_utc(date, now, sizeof(now));
			return err_set(e, -ACSO_E_UNSAFE,
				       "the channel's Release is dated %s, older than the %s seen before: a rollback", now, was);
		}
	}
	char text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", (long long)date);
	return root_write(rootfd, PREBUILT_DATE, text, (size_t)n, e);
}

int prebuilt_update(const struct prebuilt_apt *pa, struct strv *images, struct strv *headers, char **arch,
		    char **date, struct acso_err *e)
{
	struct strv a = {0};
	prebuilt_apt_argv(pa->root, "apt-get", true, &a);
	push_opts(pa, &a);
	strv_push(&a, "-q");
	strv_push(&a, "update");
	int r = apt_run(pa, &a, NULL, e);
	strv_free(&a);
	if (r < 0)
		return err_wrap(e, r, "the channel");
	/* where apt keeps the channel's verified lists */
	struct buf out = {0}, ar = {0};
	prebuilt_apt_argv(pa->root, "apt-get", true, &a);
	strv_push(&a, "indextargets");
	strv_push(&a, "--format");
	strv_push(&a, "$(FILENAME)");
	strv_push(&a, "Identifier: Packages");
	r = apt_run(pa, &a, &out, e);
	strv_free(&a);
	if (r == 0) {
		strv_push_chroot(&a, pa->root);
		strv_push(&a, "dpkg");
		strv_push(&a, "--print-architecture");
		r = apt_run(pa, &a, &ar, e);
		strv_free(&a);
	}
	char *list = r == 0 ? strip_trailing((char *)buf_str(&out)) : NULL;
	if (r == 0 && (!endswith(list, "_Packages") || strchr(list, '\n') || *list != '/'))
		r = err_set(e, -ACSO_E_NOTFOUND, "apt lists no Packages file for the channel ('%s')", list);
	_cleanup_free_ char *inrel = NULL, *packages = NULL, *rtext = NULL;
	size_t plen = 0, rlen = 0;
	if (r == 0) {
		inrel = xasprintf("%.*sInRelease", (int)(strlen(list) - strlen("Packages")), list);
		if ((r = root_read_file(pa->rootfd, inrel, PREBUILT_LIST_MAX, &rtext, &rlen)) < 0)
			err_set(e, r, "'%s' (the channel must have an InRelease): %s", inrel, acso_strerror(r));
	}
	time_t d = 0;
	if (r == 0 && (r = prebuilt_release_date(rtext, rlen, &d, e)) < 0)
		err_wrap(e, r, "'%s'", inrel);
	if (r == 0)
		r = check_date(pa->rootfd, d, e);
	if (r == 0 && (r = root_read_file(pa->rootfd, list, PREBUILT_LIST_MAX, &packages, &plen)) < 0)
		err_set(e, r, "'%s': %s", list, acso_strerror(r));
	if (r == 0) {
		*arch = xstrdup(strip_trailing((char *)buf_str(&ar)));
		*date = iso_utc_dup(d);
		prebuilt_packages_releases(packages, plen, *arch, images, headers);
	}
	buf_free(&out);
	buf_free(&ar);
	return r;
}

int prebuilt_apt_run(const struct prebuilt_apt *pa, const char *verb, const struct strv *names, struct acso_err *e)
{
	struct strv a = {0};
	prebuilt_apt_argv(pa->root, "apt-get", false, &a);
	push_opts(pa, &a);
	strv_push(&a, "-q");
	strv_push(&a, "-y");
	strv_push(&a, verb);
	for (size_t i = 0; i < names->n; i++)
		strv_push(&a, names->v[i]);
	int r = apt_run(pa, &a, NULL, e);
	strv_free(&a);
	return r;
}

void prebuilt_ledger_read(int rootfd, struct strv *names)
{
	_cleanup_free_ char *text = NULL;
	if (root_read_file(rootfd, PREBUILT_LEDGER, 1 << 20, &text, NULL) < 0)
		return;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char rel[128];
		enum deb_kind k = prebuilt_kind(l, rel, sizeof(rel));
		if ((k == DEB_IMAGE || k == DEB_HEADERS) && l[strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789.+-")] == '\0' &&
		    !strv_has(names, l))
			strv_push(names, l);
	}
}

int prebuilt_ledger_add(int rootfd, const struct strv *names, struct acso_err *e)
{
	struct strv all = {0};
	prebuilt_ledger_read(rootfd, &all);
	for (size_t i = 0; i < names->n; i++)
		if (!strv_has(&all, names->v[i]))
			strv_push(&all, names->v[i]);
	struct buf b = {0};
	for (size_t i = 0; i < all.n; i++)
		buf_printf(&b, "%s\n", all.v[i]);
	int r = root_write(rootfd, PREBUILT_LEDGER, b.data ? b.data : "", b.len, e);
	buf_free(&b);
	strv_free(&all);
	return r;
}

int prebuilt_installed(const struct prebuilt_apt *pa, struct strv *names, struct acso_err *e)
{
	struct strv a = {0}, keep = {0};
	strv_push_chroot(&a, pa->root);
	strv_push(&a, "dpkg-query");
	strv_push(&a, "--show");
	strv_push(&a, "--showformat=${db:Status-Abbrev} ${Package}\\n");
	for (size_t i = 0; i < names->n; i++)
		strv_push(&a, names->v[i]);
	/* dpkg-query exits 1 when it knows a name not at all: not an error here */
	struct buf out = {0};
	int status = 0;
	struct spawn_opts so = {.log_fd = -1, .capture = &out, .quiet = true};
	int r = spawn_run((const char *const *)a.v, &so, &status);
	strv_free(&a);
	if (r < 0) {
		buf_free(&out);
		return err_set(e, r, "run dpkg-query: %s", acso_strerror(r));
	}
	/* "ii  linux-image-6.1.7-acso": the second letter is the state, 'n' not installed */
	for (char *l = strtok((char *)buf_str(&out), "\n"); l; l = strtok(NULL, "\n")) {
		const char *name = strchr(l, ' ');
		while (name && *name == ' ')
			name++;
		if (strlen(l) > 2 && l[1] != 'n' && name && strv_has(names, name))
			strv_push(&keep, name);
	}
	buf_free(&out);
	strv_free(names);
	*names = keep;
	return 0;
}

/* apt's name of the channel's Packages list ("127.0.0.1:8080_repo_._Packages"
 * for http://127.0.0.1:8080/repo/): the URI without its scheme, '/' as '_'.
 * NULL for a URI apt would quote (acso writes none such). */
static char *list_name(const char *uri)
{
	const char *rest = startswith(uri, "https://") ? uri + 8 : startswith(uri, "http://") ? uri + 7 : NULL;
	if (!rest || !*rest || rest[strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-/")])
		return NULL;
	char *n = xasprintf("/var/lib/apt/lists/%s%s._Packages", rest, endswith(rest, "/") ? "" : "/");
	for (char *p = n + strlen("/var/lib/apt/lists/"); *p; p++)
		if (*p == '/')
			*p = '_';
	return n;
}

int prebuilt_newer(int rootfd, struct strv *newer, struct acso_err *e)
{
	_cleanup_free_ char *src = NULL, *packages = NULL, *status = NULL;
	size_t plen = 0, slen = 0;
	int r = root_read_file(rootfd, PREBUILT_SOURCE, 64 << 10, &src, NULL);
	if (r < 0)
		return r == -ENOENT ? r : err_set(e, r, "'%s': %s", PREBUILT_SOURCE, acso_strerror(r));
	const char *u = strstr(src, "\nURIs: ");
	_cleanup_free_ char *uri = u ? xstrndup(u + 7, strcspn(u + 7, " \n")) : NULL;
	_cleanup_free_ char *list = uri ? list_name(uri) : NULL;
	if (!list || root_read_file(rootfd, list, PREBUILT_LIST_MAX, &packages, &plen) < 0)
		return -ENOENT;
	if ((r = root_read_file(rootfd, "/var/lib/dpkg/status", PREBUILT_LIST_MAX * 4, &status, &slen)) < 0)
		return err_set(e, r, "'/var/lib/dpkg/status': %s", acso_strerror(r));
	struct strv chan = {0}, inst = {0}, hd = {0}, series = {0};
	prebuilt_packages_releases(packages, plen, NULL, &chan, &hd);
	prebuilt_packages_releases(status, slen, NULL, &inst, &hd);
	/* the installed kernels that are the channel's, by series */
	for (size_t i = 0; i < inst.n; i++) {
		_cleanup_free_ char *s = prebuilt_series_of(inst.v[i]);
		if (s && strv_has(&chan, inst.v[i]) && !strv_has(&series, s))
			strv_push(&series, s);
	}
	for (size_t i = 0; i < series.n; i++) {
		struct strv mine = {0};
		for (size_t j = 0; j < inst.n; j++)
			if (strv_has(&chan, inst.v[j]))
				strv_push(&mine, inst.v[j]);
		const char *have = prebuilt_pick(&mine, series.v[i]), *best = prebuilt_pick(&chan, series.v[i]);
		if (have && best && prebuilt_release_cmp(best, have) > 0)
			strv_pushf(newer, "%s %s %s", series.v[i], have, best);
		strv_free(&mine);
	}
	strv_free(&chan);
	strv_free(&inst);
	strv_free(&hd);
	strv_free(&series);
	return 0;
}
