/* kconfig.c — .config reading, editing and writing. See kconfig.h. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "kernel/kconfig.h"
#include "base/util.h"

bool kconfig_symbol_ok(const char *sym)
{
	if (!*sym)
		return false;
	for (const char *p = sym; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

bool kconfig_value_ok(const char *v)
{
	if (!strcmp(v, "y") || !strcmp(v, "m") || !strcmp(v, "n"))
		return true;
	if (v[0] == '"') {
		const char *p = v + 1;
		for (; *p && *p != '"'; p++)
			if (*p == '\\' && !*++p)
				return false;
		return *p == '"' && p[1] == 0;
	}
	const char *p = v;
	if (*p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return false;
		for (; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return false;
		return true;
	}
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/* Classify one line (without its newline). */
static enum kc_kind classify(const char *l, char **sym, char **val)
{
	*sym = *val = NULL;
	if (startswith(l, "CONFIG_")) {
		const char *eq = strchr(l, '=');
		if (!eq)
			return KC_JUNK;
		_cleanup_free_ char *s = xstrndup(l + 7, (size_t)(eq - l - 7));
		if (!kconfig_symbol_ok(s) || !kconfig_value_ok(eq + 1))
			return KC_JUNK;
		*sym = TAKE_PTR(s);
		*val = xstrdup(eq + 1);
		return KC_SET;
	}
	if (startswith(l, "# CONFIG_") && endswith(l, " is not set")) {
		size_t n = strlen(l) - 9 - 11;
		_cleanup_free_ char *s = xstrndup(l + 9, n);
		if (kconfig_symbol_ok(s)) {
			*sym = TAKE_PTR(s);
			*val = xstrdup("n");
			return KC_UNSET;
		}
		return KC_OTHER;
	}
	const char *p = l;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return KC_OTHER;
	return KC_JUNK;
}

static void add_issue(struct kconfig *kc, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_issue(struct kconfig *kc, size_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m;
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	kc->issues = xrealloc(kc->issues, (kc->nissues + 1) * sizeof(*kc->issues));
	kc->issues[kc->nissues++] = (struct kc_issue){line, m};
}

void kconfig_free(struct kconfig *kc)
{
	for (size_t i = 0; i < kc->n; i++) {
		free(kc->v[i].raw);
		free(kc->v[i].sym);
		free(kc->v[i].val);
	}
	for (size_t i = 0; i < kc->nissues; i++)
		free(kc->issues[i].msg);
	free(kc->v);
	free(kc->issues);
	*kc = (struct kconfig){0};
}

/* Index of the last line assigning sym, or SIZE_MAX. */
static size_t find_last(const struct kconfig *kc, const char *sym)
{
	for (size_t i = kc->n; i-- > 0;)
		if (kc->v[i].sym && !strcmp(kc->v[i].sym, sym))
			return i;
	return SIZE_MAX;
}

int kconfig_parse(struct kconfig *kc, const char *text, size_t len, const char *name,
		  struct acso_err *e)
{
	*kc = (struct kconfig){0};
	if (len > KCONFIG_MAX_FILE)
		return err_set(e, -ACSO_E_TOOBIG, "%s: larger than %u bytes", name, KCONFIG_MAX_FILE);
	if (memchr(text, 0, len))
		return err_set(e, -ACSO_E_PARSE, "%s: binary data (a NUL byte), not a kernel config", name);
	size_t cap = 0, lineno = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - text - i) + 1 : len - i;
		lineno++;
		if (l > KCONFIG_MAX_LINE) {
			kconfig_free(kc);
			return err_set(e, -ACSO_E_TOOBIG, "%s:%zu: line longer than %u bytes", name, lineno, KCONFIG_MAX_LINE);
		}
		if (kc->n == cap) {
			cap = cap ? cap * 2 : 1024;
			kc->v = xrealloc(kc->v, cap * sizeof(*kc->v));
		}
		struct kc_line *ln = &kc->v[kc->n];
		*ln = (struct kc_line){.raw = xstrndup(text + i, l)};
		_cleanup_free_ char *body = xstrndup(text + i, nl ? l - 1 : l);
		if (body[0] && body[strlen(body) - 1] == '\r')
			body[strlen(body) - 1] = 0;
		ln->kind = classify(body, &ln->sym, &ln->val);
		if (ln->kind == KC_JUNK)
			add_issue(kc, lineno, "%s:%zu: not a config line: '%.60s'", name, lineno, body);
		else if (ln->sym) {
			size_t prev = find_last(kc, ln->sym);
			if (prev != SIZE_MAX)
				add_issue(kc, lineno, "%s:%zu: CONFIG_%s assigned again (was %s, now %s; the last one counts)",
					  name, lineno, ln->sym, kc->v[prev].val, ln->val);
		}
		kc->n++;
		if (!nl)
			add_issue(kc, lineno, "%s:%zu: the last line has no newline (a truncated file?)", name, lineno);
		i += l;
	}
	return 0;
}

const char *kconfig_get(const struct kconfig *kc, const char *sym)
{
	size_t i = find_last(kc, sym);
	return i == SIZE_MAX ? NULL : kc->v[i].val;
}

int kconfig_set(struct kconfig *kc, const char *sym, const char *val)
{
	size_t i = find_last(kc, sym);
	bool unset = !strcmp(val, "n");
	char *raw = unset ? xasprintf("# CONFIG_%s is not set\n", sym) : xasprintf("CONFIG_%s=%s\n", sym, val);
	if (i != SIZE_MAX) {
		struct kc_line *l = &kc->v[i];
		if (!strcmp(l->val, val)) {
			free(raw);
			return 0;
		}
		/* keep the line's own ending (a last line without newline keeps none) */
		size_t rl = strlen(l->raw);
		if (rl && l->raw[rl - 1] != '\n')
			raw[strlen(raw) - 1] = 0;
		free(l->raw);
		free(l->val);
		l->raw = raw;
		l->val = xstrdup(val);
		l->kind = unset ? KC_UNSET : KC_SET;
		l->edited = true;
		return 1;
	}
	/* appending after a last line without newline: end that line first */
	if (kc->n) {
		struct kc_line *last = &kc->v[kc->n - 1];
		size_t rl = strlen(last->raw);
		if (rl && last->raw[rl - 1] != '\n') {
			char *fixed = xasprintf("%s\n", last->raw);
			free(last->raw);
			last->raw = fixed;
		}
	}
	kc->v = xrealloc(kc->v, (kc->n + 1) * sizeof(*kc->v));
	kc->v[kc->n++] = (struct kc_line){unset ? KC_UNSET : KC_SET, raw, xstrdup(sym), xstrdup(val), true};
	return 1;
}

void kconfig_render(const struct kconfig *kc, struct buf *out)
{
	for (size_t i = 0; i < kc->n; i++)
		buf_append(out, kc->v[i].raw, strlen(kc->v[i].raw));
	buf_str(out);
}

void kc_reqs_free(struct kc_reqs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].sym);
		free(r->v[i].val);
		free(r->v[i].origin);
		free(r->v[i].why);
	}
	free(r->v);
	*r = (struct kc_reqs){0};
}

const struct kc_req *kc_reqs_find(const struct kc_reqs *r, const char *sym)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].sym, sym))
			return &r->v[i];
	return NULL;
}

void kc_reqs_drop(struct kc_reqs *r, const char *sym)
{
	struct kc_req *q = (struct kc_req *)kc_reqs_find(r, sym);
	if (!q)
		return;
	free(q->sym);
	free(q->val);
	free(q->origin);
	free(q->why);
	memmove(q, q + 1, (size_t)(r->v + r->n - (q + 1)) * sizeof(*q));
	r->n--;
}

void kc_reqs_add(struct kc_reqs *r, const char *sym, const char *val, const char *origin, const char *why)
{
	struct kc_req *q = (struct kc_req *)kc_reqs_find(r, sym);
	if (!q) {
		r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
		q = &r->v[r->n++];
		*q = (struct kc_req){.sym = xstrdup(sym)};
	}
	free(q->val);
	free(q->origin);
	free(q->why);
	q->val = xstrdup(val);
	q->origin = xstrdup(origin);
	q->why = why ? xstrdup(why) : NULL;
}

/* The first sentence of the comment block that ends at line i (exclusive),
 * in the same paragraph; NULL when there is none. */
static char *comment_above(const struct kconfig *kc, size_t i)
{
	size_t first = i;
	while (first > 0) {
		const struct kc_line *l = &kc->v[first - 1];
		if (l->kind == KC_OTHER && startswith(l->raw, "# "))
			first--;
		else if (l->sym)
			i = --first; /* an assignment just above: its block serves both */
		else
			break;
	}
	if (first == i)
		return NULL;
	struct buf b = {0};
	for (size_t k = first; k < i; k++) {
		const char *t = kc->v[k].raw + 2;
		buf_append(&b, t, strcspn(t, "\r\n"));
		buf_append(&b, " ", 1);
	}
	char *s = xstrdup(buf_str(&b));
	buf_free(&b);
	char *end = strstr(s, ". ");
	if (end)
		end[1] = 0;
	for (size_t n = strlen(s); n && s[n - 1] == ' '; n--)
		s[n - 1] = 0;
	return s;
}

int kconfig_parse_fragment(const char *text, size_t len, const char *name, struct kc_reqs *reqs,
			   struct acso_err *e)
{
	struct kconfig kc;
	int r = kconfig_parse(&kc, text, len, name, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < kc.nissues; i++)
		if (strstr(kc.issues[i].msg, "not a config line")) {
			r = err_set(e, -ACSO_E_PARSE, "%s", kc.issues[i].msg);
			kconfig_free(&kc);
			return r;
		}
	for (size_t i = 0; i < kc.n; i++) {
		if (!kc.v[i].sym)
			continue;
		_cleanup_free_ char *origin = xasprintf("%s:%zu", name, i + 1);
		_cleanup_free_ char *why = comment_above(&kc, i);
		kc_reqs_add(reqs, kc.v[i].sym, kc.v[i].val, origin, why);
	}
	kconfig_free(&kc);
	return 0;
}

int kconfig_parse_assignment(const char *arg, struct kc_reqs *reqs, struct acso_err *e)
{
	const char *s = startswith(arg, "CONFIG_") ? arg + 7 : arg;
	const char *eq = strchr(s, '=');
	if (!eq)
		return err_set(e, -EINVAL, "'%s': expected CONFIG_X=VALUE", arg);
	_cleanup_free_ char *sym = xstrndup(s, (size_t)(eq - s));
	if (!kconfig_symbol_ok(sym))
		return err_set(e, -EINVAL, "'%s': '%s' is not a symbol name", arg, sym);
	if (!kconfig_value_ok(eq + 1))
		return err_set(e, -EINVAL, "'%s': value must be y, m, n, a number or a \"quoted string\"", arg);
	kc_reqs_add(reqs, sym, eq + 1, "--set", NULL);
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct kc_change *)a)->sym, ((const struct kc_change *)b)->sym);
}

static bool same(const char *a, const char *b)
{
	/* "not set" and "not mentioned" are the same to Kconfig */
	if (!a)
		a = "n";
	if (!b)
		b = "n";
	return !strcmp(a, b);
}

size_t kconfig_diff(const struct kconfig *a, const struct kconfig *b, struct kc_change **out)
{
	size_t n = 0, cap = 0;
	struct kc_change *v = NULL;
	for (int side = 0; side < 2; side++) {
		const struct kconfig *x = side ? b : a;
		for (size_t i = 0; i < x->n; i++) {
			const char *sym = x->v[i].sym;
			if (!sym || find_last(x, sym) != i)
				continue;
			if (side == 1 && find_last(a, sym) != SIZE_MAX)
				continue; /* seen from a's side */
			const char *ov = kconfig_get(a, sym), *nv = kconfig_get(b, sym);
			if (same(ov, nv))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = (struct kc_change){xstrdup(sym), ov, nv};
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_change);
	*out = v;
	return n;
}

void kc_changes_free(struct kc_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].sym);
	free(c);
}
