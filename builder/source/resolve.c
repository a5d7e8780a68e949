/* resolve.c — see resolve.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "source/fetch.h"
#include "base/fileio.h"
#include "source/releases.h"
#include "source/resolve.h"
#include "base/util.h"

static int identify(const struct resolve_req *q, struct resolve_res *r, struct acso_err *e)
{
	if (q->given)
		return kident_parse(q->given, NULL, NULL, &r->id, e);
	_cleanup_free_ char *rel = NULL, *ver = NULL, *sig = NULL;
	int x = root_read_attr(q->rootfd, "/proc/sys/kernel/osrelease", &rel);
	if (x < 0)
		return err_set(e, x, "read /proc/sys/kernel/osrelease: %s", acso_strerror(x));
	size_t len;
	if (root_read_file(q->rootfd, "/proc/version", 4096, &ver, &len) < 0)
		ver = NULL;
	if (root_read_attr(q->rootfd, "/proc/version_signature", &sig) < 0)
		sig = NULL;
	r->running = true;
	return kident_parse(rel, ver, sig, &r->id, e);
}

int resolve_run(const struct resolve_req *q, struct resolve_res *r, struct acso_err *e)
{
	memset(r, 0, sizeof(*r));
	int x = identify(q, r, e);
	if (x < 0)
		return x;
	r->series = r->id.series;
	if (q->series && (x = kver_parse_series(q->series, &r->series, e)) < 0)
		return x;
	if (q->version) {
		x = kver_parse(q->version, &r->target, e);
		if (x < 0)
			return x;
		r->have_target = true;
		r->target_from = "--version";
		r->series = r->target;
		r->series.sub = 0;
		r->series.kind = KVER_RELEASE;
	}

	/* releases.json: from the mirror (conditional request), or the cache. */
	struct releases rels = {0};
	bool have_rels = false;
	{
		_cleanup_free_ char *url = fetch_releases_url(q->mirror);
		struct buf b = {0};
		struct http_opts h = q->http;
		h.max_size = RELEASES_MAX_SIZE;
		_cleanup_close_ int cfd = -1;
		if (q->cache_dir)
			cfd = mkdir_open(q->cache_dir, 0755);
		if (cfd < 0 && !q->offline) {
			x = http_get(url, &h, &b, e);
		} else if (cfd >= 0) {
			x = http_get_cached(url, cfd, "releases.json", q->offline, &h, &b, &r->releases_cached, e);
		} else {
			x = -ACSO_E_NOTFOUND;
		}
		if (x < 0 && q->offline) {
			x = 0; /* offline without a cache: report what the strings say */
		} else if (x < 0) {
			buf_free(&b);
			return err_wrap(e, x, "'%s'", url);
		} else {
			x = releases_parse(b.data ? b.data : "", b.len, &rels, e);
			if (x < 0) {
				buf_free(&b);
				return err_wrap(e, x, "'%s'", url);
			}
			have_rels = true;
		}
		buf_free(&b);
	}

	if (have_rels) {
		const struct release *rel = releases_find_series(&rels, &r->series);
		if (rel) {
			r->listed = true;
			r->eol_known = true;
			r->eol = rel->iseol;
			snprintf(r->moniker, sizeof(r->moniker), "%s", rel->moniker);
			if (!r->have_target) {
				r->target = rel->ver;
				r->have_target = true;
				r->target_from = "releases.json";
			}
		}
	}
	/* Not listed (and online): the series directory lists every tarball. */
	if (!r->listed && !q->offline && !r->have_target && r->series.kind == KVER_RELEASE) {
		char name[] = "sha256sums.asc";
		_cleanup_free_ char *url = fetch_series_url(q->mirror, &r->series, name);
		struct buf b = {0};
		struct http_opts h = q->http;
		h.max_size = SUMS_MAX_SIZE;
		x = http_get(url, &h, &b, e);
		if (x < 0) {
			buf_free(&b);
			releases_free(&rels);
			return err_wrap(e, x, "'%s'", url);
		}
		int n = sums_latest_in_series(buf_str(&b), &r->series, &r->target);
		buf_free(&b);
		if (n > 0) {
			r->have_target = true;
			r->target_from = "series directory";
			if (have_rels) {
				/* Listed nowhere in releases.json: no longer maintained. */
				r->eol_known = true;
				r->eol = true;
			}
		}
	}
	if (!r->have_target && q->offline && r->id.upstream_known) {
		r->target = r->id.upstream;
		r->have_target = true;
		r->target_from = "upstream";
	}
	if (have_rels) {
		const struct release *lt = releases_nearest_longterm(&rels, &r->series);
		if (lt) {
			r->have_longterm = true;
			r->longterm = lt->ver;
		}
	}
	releases_free(&rels);
	if (q->longterm) {
		if (!r->have_longterm)
			return err_set(e, -ACSO_E_NOTFOUND, "no longterm series is listed in releases.json");
		r->target = r->longterm;
		r->have_target = true;
		r->target_from = "releases.json";
		r->series = r->longterm;
		r->series.sub = 0;
		r->eol_known = true;
		r->eol = false;
		snprintf(r->moniker, sizeof(r->moniker), "longterm");
	}
	if (!r->have_target && !q->offline) {
		char s[KVER_STR_MAX];
		kver_series_str(&r->series, s);
		return err_set(e, -ACSO_E_NOTFOUND, "no release of series %s in releases.json or the series directory", s);
	}
	return 0;
}
