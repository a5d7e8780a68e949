/* util.h — small helpers every file may use: cleanup attributes, strict
 * number parsing, string building. No I/O here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
/* Hand a resource out of a cleanup-scoped variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* Strict parsing: the whole string must be the number, no sign for
 * unsigned, no overflow. base 0 is not accepted (no silent octal).
 * Return 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *s, int base, uint64_t *out);
int parse_u32(const char *s, int base, uint32_t *out);
int parse_int(const char *s, int *out);

/* malloc'ed printf; aborts on out-of-memory (as with every allocation
 * here: an allocation failure is not a recoverable condition for a CLI). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);

/* Strip trailing white space (including a newline) in place; returns s. */
char *strip_trailing(char *s);
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* A growable byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_append(struct buf *b, const void *data, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* NUL-terminated view (the terminator is not counted in len). */
const char *buf_str(struct buf *b);
/* The NUL-terminated contents, now the caller's to free (its length in
 * *len when len is not NULL); b is left empty. */
char *buf_take(struct buf *b, size_t *len);

/* A NULL-terminated list of strings. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *s, const char *str);   /* copies */
/* "chroot ROOT" in front of a command that runs inside ROOT; nothing for "/". */
void strv_push_chroot(struct strv *s, const char *root);
void strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);
bool strv_has(const struct strv *s, const char *str); /* an entry equal to str */
char *strv_join(const struct strv *s);                 /* "a b c" */

/* t (seconds since the epoch) as ISO-8601 UTC, "2026-12-05T17:49:40Z", the
 * form of every timestamp acso writes into its state and reports. */
#define ISO_UTC_SIZE 32
bool iso_utc(time_t t, char *buf, size_t len); /* false (buf "") when gmtime cannot */
char *iso_utc_dup(time_t t);                   /* malloc'ed; "" when gmtime cannot */
/* Seconds on the monotonic clock, for timing a step. */
double now_seconds(void);
