/* cmd-prebuilt.c — `acso prebuilt [VERSION]`: fetch a channel's signed
 * index, verify its signature natively (pgp.h) against the channel's key,
 * pick the kernel for the running series (or VERSION) and architecture,
 * download its packages (resumable), verify size, SHA-256 and the control
 * fields of each, and install them through the same code as `acso install`.
 * No channel is configured by default. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/cmd-install.h"
#include "cli/commands.h"
#include "package/deb.h"
#include "base/err.h"
#include "base/fileio.h"
#include "source/http.h"
#include "package/index.h"
#include "package/install.h"
#include "cli/output.h"
#include "pgp/pgp.h"
#include "base/util.h"


struct prebuilt_args {
	const char *index, *key, *arch;
};

#define OPTS struct prebuilt_args
const struct acso_option prebuilt_options[] = {
	OPT_STRING(0, "index", index, "URL", "the channel's index.json (config: prebuilt_index); its signature is URL.asc"),
	OPT_STRING(0, "key", key, "FILE", "the channel's OpenPGP public key (config: prebuilt_key)"),
	OPT_STRING(0, "arch", arch, "ARCH", "Debian architecture to pick (default: this machine's)"),
	OPT_END,
};

static const char *debian_arch(void)
{
	static const struct { const char *machine, *arch; } map[] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"i686", "i386"}, {"i586", "i386"},
		{"armv7l", "armhf"}, {"ppc64le", "ppc64el"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
	};
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i].machine))
				return map[i].arch;
	return "amd64";
}

/* "6.1" from "6.1.0-13-amd64" / "6.1.192-acso". */
static char *series_of(const char *release)
{
	const char *dot = strchr(release, '.');
	if (!dot)
		return NULL;
	size_t n = (size_t)(dot - release) + 1 + strspn(dot + 1, "0123456789");
	return n > (size_t)(dot - release) + 1 ? xstrndup(release, n) : NULL;
}

static int verify_code(int r)
{
	if (r == -ACSO_E_BADSIG)
		return EXIT_BADSIG;
	if (r == -ACSO_E_NOKEY)
		return EXIT_NOKEY;
	if (r == -ACSO_E_PARSE || r == -ACSO_E_UNSUPPORTED)
		return EXIT_MALFORMED;
	return EXIT_FAIL;
}

/* Fetch index.json and index.json.asc and verify the signature. */
/* --timeout and --retries (the driver's network options; 2 retries unless
 * given) for every transfer of this command. */
static const struct net_args *net;
static struct http_opts transfer_policy(bool allow_http)
{
	struct http_opts ho = {.allow_http = allow_http, .retries = net && net->retries >= 0 ? net->retries : 2};
	if (net && net->timeout)
		ho.connect_timeout = ho.low_speed_time = (long)net->timeout;
	return ho;
}

static int fetch_index(const char *url, const char *key, bool allow_http, struct index *ix, int *exit_code,
		       struct acso_err *e)
{
	struct pgp_keyring *kr = NULL;
	int r = pgp_keyring_new(&kr);
	if (r == 0)
		r = pgp_keyring_add_path(kr, key, e);
	if (r == 0 && pgp_keyring_count(kr) == 0)
		r = err_set(e, -ACSO_E_NOKEY, "'%s' holds no public key", key);
	if (r < 0) {
		pgp_keyring_free(kr);
		err_wrap(e, r, "key '%s'", key);
		*exit_code = EXIT_FAIL;
		return r;
	}
	struct buf text = {0}, sig = {0};
	_cleanup_free_ char *sig_url = xasprintf("%s.asc", url);
	struct http_opts ho = transfer_policy(allow_http);
	ho.max_size = INDEX_MAX;
	r = http_get(url, &ho, &text, e);
	if (r < 0)
		err_wrap(e, r, "'%s'", url);
	if (r == 0) {
		ho.max_size = INDEX_SIG_MAX;
		r = http_get(sig_url, &ho, &sig, e);
		if (r < 0)
			err_wrap(e, r, "'%s'", sig_url);
	}
	*exit_code = EXIT_FAIL;
	if (r == 0) {
		struct pgp_signer who = {0};
		r = pgp_verify_detached(text.data, text.len, sig.data, sig.len, kr, &who, e);
		if (r < 0) {
			*exit_code = verify_code(r);
			err_wrap(e, r, "signature of '%s'", url);
		}
	}
	if (r == 0)
		r = index_parse(buf_str(&text), text.len, ix, e);
	buf_free(&text);
	buf_free(&sig);
	pgp_keyring_free(kr);
	return r;
}

/* Download one package into dir, verified: size, SHA-256, and the control
 * fields against the index. Only a verified file gets its final name. */
static int fetch_package(const char *base_url, const struct index_kernel *k, const struct index_pkg *p, int dirfd,
			 const char *dir, bool allow_http, char **final_path, struct acso_err *e)
{
	const char *name = strrchr(p->file, '/');
	name = name ? name + 1 : p->file;
	_cleanup_free_ char *final = path_join(dir, name);
	_cleanup_free_ char *part_name = xasprintf("%s.part", name);
	_cleanup_free_ char *part = path_join(dir, part_name);
	char hex[65];
	uint64_t size = 0;
	/* Already here and intact: nothing to fetch. */
	if (sha256_file(final, hex, &size, NULL) == 0 && size == p->size && !strcmp(hex, p->sha256)) {
		*final_path = TAKE_PTR(final);
		return 0;
	}
	_cleanup_free_ char *url = xasprintf("%s%s", base_url, p->file);
	struct http_opts ho = transfer_policy(allow_http);
	ho.max_size = p->size;
	int r = http_download(url, dirfd, part_name, &ho, e);
	if (r < 0) {
		if (r == -ACSO_E_TOOBIG)
			unlinkat(dirfd, part_name, 0);
		return err_wrap(e, r, "'%s'", url);
	}
	r = sha256_file(part, hex, &size, e);
	if (r == 0 && size != p->size)
		r = err_set(e, -ACSO_E_HASH, "'%s': %llu bytes, the index says %llu", url, (unsigned long long)size,
			    (unsigned long long)p->size);
	if (r == 0 && strcmp(hex, p->sha256))
		r = err_set(e, -ACSO_E_HASH, "'%s': SHA-256 %s, the index says %s", url, hex, p->sha256);
	struct deb_info d = {0};
	if (r == 0 && (r = deb_read(part, &d, e)) < 0)
		err_wrap(e, r, "'%s'", url);
	if (r == 0 && (strcmp(d.package, p->package) || strcmp(d.version, p->version) ||
		       strcmp(d.architecture, k->architecture)))
		r = err_set(e, -ACSO_E_STATE, "'%s' is %s %s (%s), the index says %s %s (%s)", url, d.package, d.version,
			    d.architecture, p->package, p->version, k->architecture);
	deb_info_free(&d);
	if (r == 0 && renameat(dirfd, part_name, dirfd, name) < 0)
		r = err_set(e, -errno, "rename '%s': %s", part, strerror(errno));
	if (r < 0) {
		unlinkat(dirfd, part_name, 0); /* nothing unverified stays */
		return r;
	}
	*final_path = TAKE_PTR(final);
	return 0;
}

static bool wanted(const struct index_pkg *p)
{
	enum deb_kind kind = deb_kind(p->package, NULL, 0);
	return kind == DEB_IMAGE || kind == DEB_HEADERS;
}

int cmd_prebuilt(struct acso_ctx *ctx, int argc, char **argv)
{
	struct prebuilt_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	const char *url = a.index ? a.index : ctx_conf(ctx, "prebuilt_index", NULL);
	const char *key = a.key ? a.key : ctx_conf(ctx, "prebuilt_key", NULL);
	net = &ctx->net;
	bool allow_http;
	if ((r = ctx_conf_bool(ctx, "allow_http", &allow_http)))
		return r;
	allow_http = allow_http || ctx->net.allow_http;
	if (!url || !key) {
		msg_error("no prebuilt channel is configured");
		msg_hint("pass --index URL --key FILE, or set prebuilt_index and prebuilt_key in acso.conf (see docs/guide.md)");
		return EXIT_FAIL;
	}
	struct index ix;
	int code = EXIT_FAIL;
	r = fetch_index(url, key, allow_http, &ix, &code, &e);
	if (r < 0) {
		fail(&e, r, "prebuilt");
		if (code == EXIT_BADSIG || code == EXIT_NOKEY)
			msg_hint("the index is not signed by the channel's key: nothing was downloaded or installed");
		return code;
	}

	_cleanup_free_ char *want = NULL;
	if (first < argc) {
		want = xstrdup(argv[first]);
	} else {
		_cleanup_free_ char *running = install_running_release(ctx->rootfd);
		if (!running && !strcmp(ctx->root, "/")) {
			struct utsname u;
			if (uname(&u) == 0)
				running = xstrdup(u.release);
		}
		want = running ? series_of(running) : NULL;
		if (!want) {
			index_free(&ix);
			msg_error("cannot tell the running kernel's series");
			msg_hint("name the version: acso prebuilt 6.1");
			return EXIT_FAIL;
		}
	}
	const char *arch = a.arch ? a.arch : debian_arch();
	const struct index_kernel *k = index_pick(&ix, want, arch, &e);
	if (!k) {
		index_free(&ix);
		return fail(&e, -ACSO_E_NOTFOUND, "prebuilt");
	}
	msg_info("prebuilt: %s (%s, built for %s, ACS patch %s) from %s", k->release, k->architecture, k->distro,
		 k->acs_patch, url);
	if (ctx->dry_run) {
		if (ctx->json) {
			json_object *o = json_object_new_object(), *pa = json_object_new_array();
			json_object_object_add(o, "release", json_object_new_string(k->release));
			json_object_object_add(o, "architecture", json_object_new_string(k->architecture));
			json_object_object_add(o, "dry_run", json_object_new_boolean(1));
			for (size_t i = 0; i < k->n; i++)
				if (wanted(&k->pkgs[i]))
					json_object_array_add(pa, json_object_new_string(k->pkgs[i].package));
			json_object_object_add(o, "packages", pa);
			out_json(o);
			json_object_put(o);
		} else {
			printf("would download and install %s:\n", k->release);
			for (size_t i = 0; i < k->n; i++)
				if (wanted(&k->pkgs[i]))
					printf("  %-34s %s  %s\n", k->pkgs[i].package, k->pkgs[i].version, k->pkgs[i].sha256);
		}
		index_free(&ix);
		return EXIT_OK;
	}

	/* Download. */
	_cleanup_free_ char *base = xstrndup(url, (size_t)(strrchr(url, '/') - url) + 1);
	_cleanup_free_ char *dir = xasprintf("%s/downloads/prebuilt/%s", ctx->work_dir, k->release);
	_cleanup_close_ int dfd = mkdir_open(dir, 0755);
	if (dfd < 0) {
		index_free(&ix);
		msg_error("'%s': %s", dir, acso_strerror(dfd));
		return EXIT_FAIL;
	}
	struct strv paths = {0};
	r = 0;
	for (size_t i = 0; i < k->n && r == 0; i++) {
		if (!wanted(&k->pkgs[i]))
			continue;
		char *p = NULL;
		r = fetch_package(base, k, &k->pkgs[i], dfd, dir, allow_http, &p, &e);
		if (r == 0) {
			strv_push(&paths, p);
			free(p);
		}
	}
	index_free(&ix);
	if (r < 0) {
		strv_free(&paths);
		fail(&e, r, "prebuilt");
		msg_hint("nothing was installed; a package that does not match its signed index is not used");
		return EXIT_FAIL;
	}
	struct install_plan plan;
	r = install_plan_build(&plan, paths.v, paths.n, false, false, &e);
	strv_free(&paths);
	if (r < 0)
		return fail(&e, r, "prebuilt");
	r = install_execute(ctx, &plan);
	install_plan_free(&plan);
	return r;
}
