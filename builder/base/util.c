/* util.c — see util.h. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "base/util.h"

int parse_u64(const char *s, int base, uint64_t *out)
{
	if (!s || !*s || base == 0 || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, base);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u32(const char *s, int base, uint32_t *out)
{
	uint64_t v;
	int r = parse_u64(s, base, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int parse_int(const char *s, int *out)
{
	if (!s || !*s || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
		return -ERANGE;
	*out = (int)v;
	return 0;
}

static void oom(void)
{
	fputs("acso: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap, size_t *len)
{
	char *p;
	int r = vasprintf(&p, fmt, ap);
	if (r < 0)
		oom();
	if (len)
		*len = (size_t)r;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap, NULL);
	va_end(ap);
	return p;
}

char *strip_trailing(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

void buf_append(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap, &n);
	va_end(ap);
	buf_append(b, p, n);
	free(p);
}

const char *buf_str(struct buf *b)
{
	if (!b->data)
		buf_append(b, "", 0);
	return b->data;
}

char *buf_take(struct buf *b, size_t *len)
{
	buf_str(b);
	char *r = b->data;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return r;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void strv_push(struct strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = xstrdup(str);
	s->v[s->n] = NULL;
}

void strv_push_chroot(struct strv *s, const char *root)
{
	if (strcmp(root, "/")) {
		strv_push(s, "chroot");
		strv_push(s, root);
	}
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap, NULL);
	va_end(ap);
	strv_push(s, p);
	free(p);
}

bool strv_has(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return true;
	return false;
}

char *strv_join(const struct strv *s)
{
	struct buf b = {0};
	for (size_t i = 0; i < s->n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", s->v[i]);
	char *r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

bool iso_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) && strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		return true;
	if (len)
		buf[0] = '\0'; /* strftime leaves it undefined */
	return false;
}

char *iso_utc_dup(time_t t)
{
	char b[ISO_UTC_SIZE];
	iso_utc(t, b, sizeof(b));
	return xstrdup(b);
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
