/* http.c — libcurl behind the policy of http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/interrupt.h"
#include "source/http.h"
#include "base/util.h"

#define HTTP_UA "acso/" ACSO_VERSION
#define HTTP_ERRBODY_MAX 4096

static bool host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[256];
	size_t n = strlen(host);
	if (n >= sizeof(h))
		return false;
	/* CURLU gives IPv6 literals in brackets. */
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		memcpy(h, host, n + 1);
	}
	if (!strcasecmp(h, "localhost"))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

int http_url_allowed(const char *url, bool allow_http, struct acso_err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int r = 0;
	if (!u)
		return err_set(e, -ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		r = err_set(e, -ACSO_E_PARSE, "'%.200s' is not a valid URL", url);
	} else if (!strcmp(scheme, "https")) {
		r = 0;
	} else if (strcmp(scheme, "http")) {
		r = err_set(e, -ACSO_E_UNSAFE, "'%s' URLs are not allowed (https only)", scheme);
	} else if (!allow_http && !host_is_loopback(host)) {
		r = err_set(e, -ACSO_E_UNSAFE, "plain http to '%s' refused: https only, except a loopback address or allow_http", host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

struct hdr_capture {
	char *etag, *lastmod;
};

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *priv)
{
	struct hdr_capture *h = priv;
	size_t n = size * nmemb;
	char **slot = NULL;
	size_t skip = 0;
	if (n > 5 && !strncasecmp(ptr, "ETag:", 5))
		slot = &h->etag, skip = 5;
	else if (n > 14 && !strncasecmp(ptr, "Last-Modified:", 14))
		slot = &h->lastmod, skip = 14;
	if (slot && n - skip < 512) {
		char *v = xstrndup(ptr + skip, n - skip);
		char *s = v;
		while (*s == ' ' || *s == '\t')
			s++;
		strip_trailing(s);
		free(*slot);
		*slot = xstrdup(s);
		free(v);
	}
	return n;
}

/* One transfer's state. */
struct xfer {
	const struct http_opts *o;
	int fd;               /* -1: into mem */
	struct buf *mem;
	uint64_t have;        /* bytes of the resource delivered to data()/file so far */
	uint64_t offset;      /* Range start of this attempt */
	uint64_t limit;
	long code;            /* response code, known in the write callback */
	bool body_is_error;   /* non-2xx: body discarded */
	bool restarted;
	int abort_code;       /* our reason for aborting a transfer */
	char abort_msg[256];
	struct hdr_capture *hdr; /* response headers wanted */
	double deadline_at;   /* monotonic seconds; the whole transfer, retries included */
	CURL *c;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *priv)
{
	struct xfer *x = priv;
	size_t n = size * nmemb;
	if (!x->code) {
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->code);
		if (x->code >= 300 && x->code < 400)
			x->body_is_error = true;
		else if (x->code != 200 && x->code != 206)
			x->body_is_error = true;
		else if (x->code == 200 && x->offset > 0) {
			/* Range ignored: the whole resource comes again. */
			if (!x->o->restart || x->o->restart(x->o->priv) != 0) {
				x->abort_code = -ACSO_E_HTTP;
				snprintf(x->abort_msg, sizeof(x->abort_msg), "the server ignored the Range request");
				return 0;
			}
			x->restarted = true;
			x->have = 0;
			x->offset = 0;
			if (x->fd >= 0 && (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0)) {
				x->abort_code = -errno;
				snprintf(x->abort_msg, sizeof(x->abort_msg), "truncate: %s", strerror(errno));
				return 0;
			}
		}
	}
	if (x->body_is_error)
		return n; /* discarded; the status says what happened */
	if (x->limit && x->have + n > x->limit) {
		x->abort_code = -ACSO_E_TOOBIG;
		snprintf(x->abort_msg, sizeof(x->abort_msg), "larger than the limit of %llu bytes",
			 (unsigned long long)x->limit);
		return 0;
	}
	if (x->fd >= 0) {
		for (size_t off = 0; off < n;) {
			ssize_t w = write(x->fd, ptr + off, n - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				x->abort_code = -errno;
				snprintf(x->abort_msg, sizeof(x->abort_msg), "write: %s", strerror(errno));
				return 0;
			}
			off += (size_t)w;
		}
	} else if (x->mem) {
		buf_append(x->mem, ptr, n);
	}
	if (x->o->data) {
		int r = x->o->data(x->o->priv, ptr, n);
		if (r) {
			x->abort_code = r < 0 ? r : -ECANCELED;
			snprintf(x->abort_msg, sizeof(x->abort_msg), "stopped by the reader");
			return 0;
		}
	}
	x->have += n;
	return n;
}

static int on_progress(void *priv, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = priv;
	/* Called about once a second even when nothing arrives. */
	if (interrupted()) {
		x->abort_code = -EINTR;
		snprintf(x->abort_msg, sizeof(x->abort_msg), "interrupted by signal %d", interrupted());
		return 1;
	}
	if (x->o->progress && !x->body_is_error)
		x->o->progress(x->o->priv, x->offset + (uint64_t)dlnow,
			       dltotal > 0 ? x->offset + (uint64_t)dltotal : 0);
	return 0;
}

enum attempt_result { ATT_DONE, ATT_RETRY, ATT_FAIL, ATT_REDIRECT };

/* One request to url. On ATT_REDIRECT *next is the (malloc'ed) target. */
static enum attempt_result attempt(struct xfer *x, const char *url, struct curl_slist *hdrs,
				   char **next, int *ret, struct acso_err *e)
{
	const struct http_opts *o = x->o;
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	if (!c) {
		*ret = err_set(e, -ENOMEM, "curl_easy_init failed");
		return ATT_FAIL;
	}
	x->c = c;
	x->code = 0;
	x->body_is_error = false;
	x->abort_code = 0;
	x->offset = x->have;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, HTTP_UA);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout > 0 ? o->connect_timeout : 20L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time > 0 ? o->low_speed_time : 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit > 0 ? o->low_speed_limit : 1024L);
	/* A server that drips just above the low-speed limit is cut off by
	 * the overall deadline (what is left of it for this attempt). */
	double left = x->deadline_at - now_s();
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left > 0.001 ? (long)(left * 1000) : 1L);
	if (x->limit && x->limit > x->offset)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(x->limit - x->offset));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL); /* bytes as published */
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (x->hdr) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, x->hdr);
	}
	if (x->offset)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->offset);

	CURLcode cr = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	enum attempt_result res;
	if (x->abort_code) {
		*ret = err_set(e, x->abort_code, "%s", x->abort_msg);
		res = ATT_FAIL;
	} else if (cr == CURLE_FILESIZE_EXCEEDED) {
		*ret = err_set(e, -ACSO_E_TOOBIG, "the server announces more than the limit of %llu bytes",
			       (unsigned long long)x->limit);
		res = ATT_FAIL;
	} else if (cr == CURLE_OK && code >= 300 && code < 400 && code != 304) {
		char *loc = NULL;
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
		if (!loc) {
			*ret = err_set(e, -ACSO_E_HTTP, "HTTP %ld without a Location", code);
			res = ATT_FAIL;
		} else {
			*next = xstrdup(loc);
			res = ATT_REDIRECT;
		}
	} else if (cr == CURLE_OK && (code == 200 || code == 206 || code == 304)) {
		res = ATT_DONE;
	} else if (cr == CURLE_OK && code == 416 && x->offset) {
		/* Range not satisfiable: the .part is already whole (or wrong);
		 * verification decides. */
		res = ATT_DONE;
	} else if (cr == CURLE_OK) {
		*ret = err_set(e, -ACSO_E_HTTP, "HTTP %ld", code);
		res = code >= 500 ? ATT_RETRY : ATT_FAIL;
	} else if (cr == CURLE_OPERATION_TIMEDOUT && now_s() >= x->deadline_at - 0.05) {
		*ret = err_set(e, -ACSO_E_HTTP, "not done within the deadline of %ld s (download_deadline)",
			       o->deadline > 0 ? o->deadline : HTTP_DEFAULT_DEADLINE);
		res = ATT_FAIL;
	} else if (cr == CURLE_OPERATION_TIMEDOUT) {
		*ret = err_set(e, -ACSO_E_HTTP, "too slow or stalled: %s", errbuf[0] ? errbuf : curl_easy_strerror(cr));
		res = ATT_RETRY;
	} else if (cr == CURLE_UNSUPPORTED_PROTOCOL || cr == CURLE_URL_MALFORMAT ||
		   cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_SSL_CACERT_BADFILE) {
		*ret = err_set(e, -ACSO_E_HTTP, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cr));
		res = ATT_FAIL;
	} else {
		*ret = err_set(e, -ACSO_E_HTTP, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cr));
		res = ATT_RETRY;
	}
	x->code = code;
	curl_easy_cleanup(c);
	x->c = NULL;
	return res;
}

static void pause_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Redirects, retries and backoff around attempt(). */
static int run(struct xfer *x, const char *url0, struct curl_slist *hdrs, struct acso_err *e)
{
	const struct http_opts *o = x->o;
	int max_redir = o->max_redirects == 0 ? 5 : (o->max_redirects < 0 ? 0 : o->max_redirects);
	int retries = o->retries < 0 ? 0 : o->retries;
	double pause = o->backoff > 0 ? o->backoff : 1.0;
	_cleanup_free_ char *url = xstrdup(url0);
	x->deadline_at = now_s() + (double)(o->deadline > 0 ? o->deadline : HTTP_DEFAULT_DEADLINE);
	int r = http_url_allowed(url, o->allow_http, e);
	if (r < 0)
		return r;
	for (int redirects = 0, tries = 0;;) {
		char *next = NULL;
		int ret = 0;
		switch (attempt(x, url, hdrs, &next, &ret, e)) {
		case ATT_DONE:
			return 0;
		case ATT_FAIL:
			return ret;
		case ATT_REDIRECT:
			if (++redirects > max_redir) {
				free(next);
				return err_set(e, -ACSO_E_HTTP, "more than %d redirects", max_redir);
			}
			if (startswith(url, "https:") && !startswith(next, "https:")) {
				err_set(e, -ACSO_E_UNSAFE, "redirect from https to '%.200s' refused (never downgraded to http)", next);
				free(next);
				return -ACSO_E_UNSAFE;
			}
			r = http_url_allowed(next, o->allow_http, e);
			if (r < 0) {
				err_wrap(e, r, "redirect to '%.200s' refused", next);
				free(next);
				return r;
			}
			free(url);
			url = next;
			continue;
		case ATT_RETRY:
			if (tries++ >= retries || now_s() + pause >= x->deadline_at)
				return ret;
			pause_s(pause);
			pause *= 2;
			continue;
		}
	}
}

static int http_global_init(void)
{
	static bool done;
	if (!done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -ENOMEM;
		done = true;
	}
	return 0;
}

int http_download(const char *url, int dirfd, const char *part, const struct http_opts *o,
		  struct acso_err *e)
{
	if (http_global_init() < 0)
		return err_set(e, -ENOMEM, "curl_global_init failed");
	_cleanup_close_ int fd = openat(dirfd, part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_set(e, -errno, "open '%s': %s", part, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "'%s' is not a regular file", part);
	struct xfer x = { .o = o, .fd = fd, .limit = o->max_size };
	if (o->max_size && (uint64_t)st.st_size > o->max_size) {
		if (ftruncate(fd, 0) < 0)
			return err_set(e, -errno, "truncate '%s': %s", part, strerror(errno));
		st.st_size = 0;
	}
	/* The bytes already there go to data() first, so that a hash covers the
	 * whole file however many transfers it took. */
	if (st.st_size > 0 && o->data) {
		char b[1 << 16];
		uint64_t left = (uint64_t)st.st_size;
		while (left) {
			ssize_t n = read(fd, b, left < sizeof(b) ? left : sizeof(b));
			if (n <= 0)
				return err_set(e, n < 0 ? -errno : -EIO, "read '%s'", part);
			int r = o->data(o->priv, b, (size_t)n);
			if (r)
				return err_set(e, r < 0 ? r : -ECANCELED, "stopped by the reader");
			left -= (uint64_t)n;
		}
	}
	x.have = (uint64_t)st.st_size;
	if (lseek(fd, st.st_size, SEEK_SET) < 0)
		return err_set(e, -errno, "seek '%s'", part);
	return run(&x, url, NULL, e);
}

int http_get(const char *url, const struct http_opts *o, struct buf *out, struct acso_err *e)
{
	if (http_global_init() < 0)
		return err_set(e, -ENOMEM, "curl_global_init failed");
	struct xfer x = { .o = o, .fd = -1, .mem = out, .limit = o->max_size };
	return run(&x, url, NULL, e);
}

/* name.meta: "url URL\netag ETAG\nlast-modified DATE\n" */
static char *meta_get(const char *meta, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = meta; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n > kl && !strncmp(p, key, kl) && p[kl] == ' ')
			return xstrndup(p + kl + 1, n - kl - 1);
		p += n + (p[n] == '\n');
	}
	return NULL;
}

int http_get_cached(const char *url, int dirfd, const char *name, bool offline,
		    const struct http_opts *o, struct buf *out, bool *cached, struct acso_err *e)
{
	_cleanup_free_ char *meta_name = xasprintf("%s.meta", name);
	_cleanup_free_ char *meta = NULL, *body = NULL;
	size_t body_len = 0, meta_len;
	bool have = read_file_at(dirfd, meta_name, 8192, &meta, &meta_len) == 0 &&
		    read_file_at(dirfd, name, o->max_size ? o->max_size : (16u << 20), &body, &body_len) == 0;
	_cleanup_free_ char *murl = have ? meta_get(meta, "url") : NULL;
	if (have && (!murl || strcmp(murl, url)))
		have = false; /* cached from another mirror */
	*cached = false;
	if (offline) {
		if (!have)
			return err_set(e, -ACSO_E_NOTFOUND, "no cached copy of '%s' (offline)", url);
		buf_append(out, body, body_len);
		*cached = true;
		return 0;
	}
	if (http_global_init() < 0)
		return err_set(e, -ENOMEM, "curl_global_init failed");
	struct curl_slist *hdrs = NULL;
	_cleanup_free_ char *etag = have ? meta_get(meta, "etag") : NULL;
	_cleanup_free_ char *lastmod = have ? meta_get(meta, "last-modified") : NULL;
	if (etag) {
		_cleanup_free_ char *h = xasprintf("If-None-Match: %s", etag);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (lastmod) {
		_cleanup_free_ char *h = xasprintf("If-Modified-Since: %s", lastmod);
		hdrs = curl_slist_append(hdrs, h);
	}
	struct buf fresh = {0};
	struct hdr_capture hc = {0};
	struct xfer x = { .o = o, .fd = -1, .mem = &fresh, .limit = o->max_size, .hdr = &hc };
	int r = run(&x, url, hdrs, e);
	curl_slist_free_all(hdrs);
	if (r == 0 && x.code == 304 && !have)
		r = err_set(e, -ACSO_E_HTTP, "HTTP 304 for an unconditional request");
	if (r < 0) {
		buf_free(&fresh);
		free(hc.etag);
		free(hc.lastmod);
		return r;
	}
	if (x.code == 304 && have) {
		buf_append(out, body, body_len);
		*cached = true;
	} else {
		buf_append(out, fresh.data ? fresh.data : "", fresh.len);
		struct buf m = {0};
		buf_printf(&m, "url %s\n", url);
		if (hc.etag)
			buf_printf(&m, "etag %s\n", hc.etag);
		if (hc.lastmod)
			buf_printf(&m, "last-modified %s\n", hc.lastmod);
		/* A cache that cannot be written is not an error for the caller. */
		if (write_file_atomic(dirfd, name, fresh.data ? fresh.data : "", fresh.len, 0644, WRITE_NOSYNC) >= 0)
			write_file_atomic(dirfd, meta_name, m.data, m.len, 0644, WRITE_NOSYNC);
		buf_free(&m);
	}
	buf_free(&fresh);
	free(hc.etag);
	free(hc.lastmod);
	return 0;
}
