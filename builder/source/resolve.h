/* resolve.h — from a running kernel (or a given string) to the upstream
 * release to build: distro, series, exact upstream version when knowable,
 * the latest point release of the series (releases.json, or the series
 * directory's sha256sums.asc for a series no longer listed), end of life,
 * and the nearest longterm series. */
#pragma once
#include <stdbool.h>

#include "source/http.h"
#include "source/version.h"

struct acso_err;

struct resolve_req {
	const char *given;      /* RELEASE argument, or NULL: the running kernel */
	int rootfd;             /* where /proc is read */
	const char *series;     /* --series X.Y */
	const char *version;    /* --version X.Y.Z */
	bool longterm;          /* --longterm */
	bool offline;           /* no mirror contacted (a cached releases.json is used) */
	const char *mirror;     /* site root or NULL */
	const char *cache_dir;  /* where releases.json is cached (WORK/downloads) */
	struct http_opts http;
};

struct resolve_res {
	struct kident id;
	bool running;                  /* identified from /proc */
	struct kver series;
	bool have_target;
	struct kver target;
	const char *target_from;       /* "releases.json" "series directory" "--version" "upstream" */
	bool eol_known, eol;
	bool have_longterm;
	struct kver longterm;          /* nearest longterm release */
	bool releases_cached;          /* releases.json came from the cache */
	bool listed;                   /* the series is in releases.json */
	char moniker[16];
};

int resolve_run(const struct resolve_req *q, struct resolve_res *r, struct acso_err *e);
