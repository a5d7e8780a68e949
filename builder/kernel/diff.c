/* diff.c — unified diff parser, applier and writer. See diff.h. */
#include <errno.h>
#include <string.h>

#include "kernel/diff.h"
#include "base/err.h"
#include "base/util.h"

/* A line of text: pointer, length including its end of line. */
struct line {
	const char *p;
	size_t len;
};

struct lines {
	struct line *v;
	size_t n;
};

static int split_lines(const char *t, size_t len, struct lines *out, size_t max_line)
{
	size_t cap = 0;
	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (t + i)) + 1 : len - i;
		if (l > max_line) {
			free(out->v);
			out->v = NULL;
			return -ACSO_E_TOOBIG;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		out->v[out->n++] = (struct line){t + i, l};
		i += l;
	}
	return 0;
}

static bool line_eq(const struct line *a, const char *p, size_t len)
{
	return a->len == len && !memcmp(a->p, p, len);
}

/* Text of a header line without its end of line. */
static char *header_text(const struct line *l, size_t skip)
{
	size_t n = l->len;
	while (n > skip && (l->p[n - 1] == '\n' || l->p[n - 1] == '\r'))
		n--;
	return xstrndup(l->p + skip, n - skip);
}

/* "a/drivers/pci/quirks.c\t2024-..." → "drivers/pci/quirks.c"; NULL path for /dev/null. */
static int parse_path(const char *name, size_t lineno, const char *raw, char **out,
		      struct acso_err *e)
{
	*out = NULL;
	size_t n = strcspn(raw, "\t");
	_cleanup_free_ char *p = xstrndup(raw, n);
	strip_trailing(p);
	if (!strcmp(p, "/dev/null"))
		return 0;
	if (p[0] == '"')
		return err_set(e, -ACSO_E_UNSUPPORTED, "%s:%zu: quoted path names are not supported", name, lineno);
	const char *slash = strchr(p, '/');
	if (!slash || !slash[1])
		return err_set(e, -ACSO_E_PARSE, "%s:%zu: path '%s' has no leading directory to strip", name, lineno, p);
	const char *rel = slash + 1;
	if (rel[0] == '/')
		return err_set(e, -ACSO_E_UNSAFE, "%s:%zu: absolute path '%s'", name, lineno, p);
	for (const char *c = rel; *c;) {
		size_t cl = strcspn(c, "/");
		if ((cl == 2 && !strncmp(c, "..", 2)) || cl == 0)
			return err_set(e, -ACSO_E_UNSAFE, "%s:%zu: path '%s' leaves the tree or is not normal", name, lineno, p);
		c += cl;
		if (*c == '/')
			c++;
	}
	*out = xstrdup(rel);
	return 0;
}

/* "@@ -a[,b] +c[,d] @@" */
static int parse_range(const char **s, long *start, long *count)
{
	char *end;
	errno = 0;
	if (**s < '0' || **s > '9')
		return -1;
	unsigned long v = strtoul(*s, &end, 10);
	if (errno || v > 100000000UL)
		return -1;
	*start = (long)v;
	*count = 1;
	if (*end == ',') {
		const char *c = end + 1;
		if (*c < '0' || *c > '9')
			return -1;
		v = strtoul(c, &end, 10);
		if (errno || v > 100000000UL)
			return -1;
		*count = (long)v;
	}
	*s = end;
	return 0;
}

static int parse_hunk_header(const struct line *l, struct diff_hunk *h)
{
	_cleanup_free_ char *t = header_text(l, 0);
	const char *s = t;
	if (!startswith(s, "@@ -"))
		return -1;
	s += 4;
	if (parse_range(&s, &h->old_start, &h->old_count) < 0 || !startswith(s, " +"))
		return -1;
	s += 2;
	if (parse_range(&s, &h->new_start, &h->new_count) < 0 || !startswith(s, " @@"))
		return -1;
	return 0;
}

void diff_patch_free(struct diff_patch *p)
{
	for (size_t i = 0; i < p->nf; i++) {
		struct diff_file *f = &p->f[i];
		for (size_t j = 0; j < f->nh; j++)
			free(f->h[j].l);
		free(f->h);
		free(f->old_path);
		free(f->new_path);
	}
	free(p->f);
	free(p->text);
	free(p->name);
	*p = (struct diff_patch){0};
}

static size_t eol_len(const char *p, size_t len)
{
	if (len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n')
		return 2;
	return len >= 1 && p[len - 1] == '\n' ? 1 : 0;
}

static int parse_hunk_body(const char *name, struct lines *L, size_t *i, struct diff_hunk *h,
			   struct acso_err *e)
{
	long old_seen = 0, new_seen = 0;
	size_t cap = 0;
	while (old_seen < h->old_count || new_seen < h->new_count) {
		if (*i >= L->n)
			return err_set(e, -ACSO_E_PARSE,
				       "%s:%zu: hunk ends early (the file is truncated: %ld of %ld old and %ld of %ld new lines)",
				       name, h->patch_line, old_seen, h->old_count, new_seen, h->new_count);
		const struct line *l = &L->v[*i];
		char op = l->p[0];
		struct diff_line dl;
		if (op == '\\') {
			if (!h->n)
				return err_set(e, -ACSO_E_PARSE, "%s:%zu: '\\' line without a line before it", name, *i + 1);
			struct diff_line *prev = &h->l[h->n - 1];
			prev->len -= eol_len(prev->text, prev->len);
			(*i)++;
			continue;
		}
		if (op == '\n' || (op == '\r' && l->len == 2 && l->p[1] == '\n'))
			dl = (struct diff_line){' ', l->p, l->len}; /* blank context whose space was stripped */
		else if (op == ' ' || op == '-' || op == '+')
			dl = (struct diff_line){op, l->p + 1, l->len - 1};
		else
			return err_set(e, -ACSO_E_PARSE,
				       "%s:%zu: unexpected line in hunk (expected %ld more old and %ld more new lines)",
				       name, *i + 1, h->old_count - old_seen, h->new_count - new_seen);
		if (dl.op != '+')
			old_seen++;
		if (dl.op != '-')
			new_seen++;
		if (old_seen > h->old_count || new_seen > h->new_count)
			return err_set(e, -ACSO_E_PARSE, "%s:%zu: hunk has more lines than its header says", name, *i + 1);
		if (h->n == cap) {
			cap = cap ? cap * 2 : 16;
			h->l = xrealloc(h->l, cap * sizeof(*h->l));
		}
		h->l[h->n++] = dl;
		(*i)++;
	}
	/* A "\ No newline at end of file" for the hunk's last line. */
	if (*i < L->n && L->v[*i].p[0] == '\\' && h->n) {
		struct diff_line *prev = &h->l[h->n - 1];
		prev->len -= eol_len(prev->text, prev->len);
		(*i)++;
	}
	/* An added line right after the counted body: the header is wrong
	 * (a "-" or " " line could be a mail signature "-- " and is left). */
	if (*i < L->n && L->v[*i].p[0] == '+' && strncmp(L->v[*i].p, "+++ ", L->v[*i].len < 4 ? L->v[*i].len : 4))
		return err_set(e, -ACSO_E_PARSE, "%s:%zu: hunk has more lines than its header says", name, *i + 1);
	return 0;
}

int diff_parse(const char *text, size_t len, const char *name, struct diff_patch *out,
	       struct acso_err *e)
{
	*out = (struct diff_patch){0};
	if (len > DIFF_MAX_PATCH)
		return err_set(e, -ACSO_E_TOOBIG, "%s: larger than %u bytes", name, DIFF_MAX_PATCH);
	if (memchr(text, '\0', len))
		return err_set(e, -ACSO_E_PARSE, "%s: binary data (a NUL byte) in a patch", name);
	out->name = xstrdup(name);
	out->text = xstrndup(text, len);
	struct lines L;
	int r = split_lines(out->text, len, &L, DIFF_MAX_LINE);
	if (r < 0) {
		diff_patch_free(out);
		return err_set(e, r, "%s: a line is longer than %u bytes", name, DIFF_MAX_LINE);
	}
	size_t capf = 0;
	for (size_t i = 0; i < L.n;) {
		const struct line *l = &L.v[i];
		if (startswith(l->p, "@@ ") && out->nf == 0) {
			r = err_set(e, -ACSO_E_PARSE, "%s:%zu: hunk without a '--- '/'+++ ' file header", name, i + 1);
			goto fail;
		}
		if (!(l->len > 4 && !strncmp(l->p, "--- ", 4))) {
			i++;
			continue;
		}
		if (i + 1 >= L.n || strncmp(L.v[i + 1].p, "+++ ", L.v[i + 1].len < 4 ? L.v[i + 1].len : 4) ||
		    L.v[i + 1].len < 4) {
			r = err_set(e, -ACSO_E_PARSE, "%s:%zu: '--- ' header not followed by '+++ '", name, i + 1);
			goto fail;
		}
		if (out->nf == capf) {
			capf = capf ? capf * 2 : 4;
			out->f = xrealloc(out->f, capf * sizeof(*out->f));
		}
		struct diff_file *f = &out->f[out->nf++];
		*f = (struct diff_file){.patch_line = i + 1};
		_cleanup_free_ char *a = header_text(l, 4);
		_cleanup_free_ char *b = header_text(&L.v[i + 1], 4);
		f->crlf = eol_len(L.v[i + 1].p, L.v[i + 1].len) == 2;
		if ((r = parse_path(name, i + 1, a, &f->old_path, e)) < 0 ||
		    (r = parse_path(name, i + 2, b, &f->new_path, e)) < 0)
			goto fail;
		if (!f->old_path && !f->new_path) {
			r = err_set(e, -ACSO_E_PARSE, "%s:%zu: both sides are /dev/null", name, i + 1);
			goto fail;
		}
		i += 2;
		size_t caph = 0;
		while (i < L.n && startswith(L.v[i].p, "@@")) {
			if (f->nh == caph) {
				caph = caph ? caph * 2 : 4;
				f->h = xrealloc(f->h, caph * sizeof(*f->h));
			}
			struct diff_hunk *h = &f->h[f->nh++];
			*h = (struct diff_hunk){.patch_line = i + 1};
			if (parse_hunk_header(&L.v[i], h) < 0) {
				r = err_set(e, -ACSO_E_PARSE, "%s:%zu: malformed hunk header", name, i + 1);
				goto fail;
			}
			i++;
			if ((r = parse_hunk_body(name, &L, &i, h, e)) < 0)
				goto fail;
		}
		if (!f->nh) {
			r = err_set(e, -ACSO_E_PARSE, "%s:%zu: no hunk for '%s'", name, f->patch_line,
				    f->new_path ? f->new_path : f->old_path);
			goto fail;
		}
	}
	free(L.v);
	if (!out->nf) {
		diff_patch_free(out);
		return err_set(e, -ACSO_E_PARSE, "%s: no unified diff found", name);
	}
	return 0;
fail:
	free(L.v);
	diff_patch_free(out);
	return r;
}

/* Does the hunk's old side (lines [lo, hi) of want) match old at pos? */
static bool match_at(const struct lines *old, size_t pos, struct line *want, size_t lo, size_t hi)
{
	if (pos + (hi - lo) > old->n)
		return false;
	for (size_t k = lo; k < hi; k++)
		if (!line_eq(&old->v[pos + k - lo], want[k].p, want[k].len))
			return false;
	return true;
}

static void explain_mismatch(const struct diff_patch *p, const struct diff_file *f,
			     const struct lines *old, size_t pos, struct line *want, size_t nw,
			     struct buf *why)
{
	for (size_t k = 0; k < nw; k++) {
		if (pos + k >= old->n) {
			buf_printf(why, "the file ends at line %zu", old->n);
			return;
		}
		if (!line_eq(&old->v[pos + k], want[k].p, want[k].len)) {
			const struct line *o = &old->v[pos + k];
			int ol = (int)(o->len - eol_len(o->p, o->len)), wl = (int)(want[k].len - eol_len(want[k].p, want[k].len));
			buf_printf(why, "line %zu is '%.*s' where the patch expects '%.*s'", pos + k + 1,
				   ol > 80 ? 80 : ol, o->p, wl > 80 ? 80 : wl, want[k].p);
			return;
		}
	}
	(void)p;
}

int diff_apply_file(const struct diff_patch *p, const struct diff_file *f, const char *old,
		    size_t old_len, int max_fuzz, struct buf *out, struct diff_hunk_report *rep,
		    struct acso_err *e)
{
	struct lines O = {0};
	const char *path = f->new_path ? f->new_path : f->old_path;
	if (!old && f->old_path)
		return err_set(e, -ACSO_E_NOTFOUND, "%s: '%s' does not exist in the tree", p->name, f->old_path);
	if (old && !f->old_path && old_len)
		return err_set(e, -EEXIST, "%s: creates '%s', which already exists", p->name, path);
	if (old && split_lines(old, old_len, &O, SIZE_MAX) < 0)
		return err_set(e, -ACSO_E_TOOBIG, "'%s': too large", path);

	struct buf res = {0};
	size_t cursor = 0;
	long last_offset = 0;
	int r = 0;
	for (size_t k = 0; k < f->nh; k++) {
		const struct diff_hunk *h = &f->h[k];
		_cleanup_free_ struct line *want = xcalloc(h->n + 1, sizeof(*want));
		_cleanup_free_ struct line *repl = xcalloc(h->n + 1, sizeof(*repl));
		size_t nw = 0, nr = 0, lead = 0, trail = 0;
		for (size_t j = 0; j < h->n; j++) {
			if (h->l[j].op != '+')
				want[nw++] = (struct line){h->l[j].text, h->l[j].len};
			if (h->l[j].op != '-')
				repl[nr++] = (struct line){h->l[j].text, h->l[j].len};
		}
		while (lead < h->n && h->l[lead].op == ' ')
			lead++;
		while (trail < h->n - lead && h->l[h->n - 1 - trail].op == ' ')
			trail++;
		long pos0 = (h->old_count ? h->old_start - 1 : h->old_start) + last_offset;
		bool found = false;
		size_t at = 0;
		int fz;
		for (fz = 0; fz <= max_fuzz && !found; fz++) {
			size_t dl = (size_t)fz < lead ? (size_t)fz : lead;
			size_t dt = (size_t)fz < trail ? (size_t)fz : trail;
			if (fz > 0 && dl == 0 && dt == 0)
				break; /* nothing more to ignore */
			size_t span = nw - dl - dt;
			long start = pos0 + (long)dl;
			long lo = (long)cursor, hi = (long)O.n - (long)span;
			for (long d = 0; !found && (start - d >= lo || start + d <= hi); d++) {
				long cand[2] = {start - d, start + d};
				for (int c = 0; c < (d ? 2 : 1) && !found; c++) {
					if (cand[c] < lo || cand[c] > hi)
						continue;
					if (match_at(&O, (size_t)cand[c], want, dl, nw - dt)) {
						found = true;
						at = (size_t)cand[c];
						for (size_t j = cursor; j < at; j++)
							buf_append(&res, O.v[j].p, O.v[j].len);
						for (size_t j = dl; j < nr - dt; j++)
							buf_append(&res, repl[j].p, repl[j].len);
						cursor = at + span;
						last_offset = (long)at - start;
						if (rep)
							rep[k] = (struct diff_hunk_report){
								.at_line = (long)at + 1 - (long)dl,
								.offset = last_offset,
								.fuzz = fz};
					}
				}
			}
		}
		if (!found) {
			struct buf why = {0};
			long ex = pos0 < (long)cursor ? (long)cursor : pos0;
			explain_mismatch(p, f, &O, (size_t)(ex < 0 ? 0 : ex), want, nw, &why);
			if (f->crlf && !(old && memmem(old, old_len, "\r\n", 2)))
				buf_printf(&why, " (the patch has CRLF line endings, the file has LF: convert the patch)");
			r = err_set(e, -ACSO_E_PARSE,
				    "%s: hunk %zu (line %zu) does not apply to '%s': %s%s", p->name, k + 1,
				    h->patch_line, path, why.len ? buf_str(&why) : "its context is not in the file",
				    max_fuzz ? "" : " (no fuzz: --fuzz N ignores up to N context lines)");
			buf_free(&why);
			buf_free(&res);
			free(O.v);
			return r;
		}
	}
	for (size_t j = cursor; j < O.n; j++)
		buf_append(&res, O.v[j].p, O.v[j].len);
	free(O.v);
	buf_str(&res);
	*out = res;
	return 0;
}

/* ---- writing diffs: Myers' O(ND) algorithm over lines ---- */

enum { ED_EQ, ED_DEL, ED_INS };

/* Edit script from the forward search, recovered from the saved V arrays. */
static int myers(const struct lines *A, const struct lines *B, unsigned char **ops, size_t *nops)
{
	long n = (long)A->n, m = (long)B->n, max = n + m;
	long off = max + 1;
	size_t vlen = (size_t)(2 * max + 3);
	long *v = xcalloc(vlen, sizeof(long));
	long **trace = NULL;
	long d_found = -1;
	const long dmax = 20000;
	for (long d = 0; d <= max && d <= dmax; d++) {
		trace = xrealloc(trace, (size_t)(d + 1) * sizeof(*trace));
		trace[d] = xmalloc(vlen * sizeof(long));
		memcpy(trace[d], v, vlen * sizeof(long));
		for (long k = -d; k <= d; k += 2) {
			long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1]
											    : v[off + k - 1] + 1;
			long y = x - k;
			while (x < n && y < m && line_eq(&A->v[x], B->v[y].p, B->v[y].len))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m) {
				d_found = d;
				goto done;
			}
		}
	}
done:
	free(v);
	if (d_found < 0) {
		/* Too different: all of A removed, all of B added. */
		for (long d = 0; trace && d <= dmax && d <= max; d++)
			free(trace[d]);
		free(trace);
		*nops = (size_t)(n + m);
		*ops = xmalloc(*nops + 1);
		memset(*ops, ED_DEL, (size_t)n);
		memset(*ops + n, ED_INS, (size_t)m);
		return 0;
	}
	/* Backtrack from (n, m). */
	size_t cap = (size_t)(n + m) + 1, len = 0;
	unsigned char *rev = xmalloc(cap);
	long x = n, y = m;
	for (long d = d_found; d >= 0; d--) {
		const long *vv = trace[d]; /* V before step d */
		long k = x - y;
		long pk = (k == -d || (k != d && vv[off + k - 1] < vv[off + k + 1])) ? k + 1 : k - 1;
		long px = vv[off + pk], py = px - pk;
		while (x > px && y > py)
			rev[len++] = ED_EQ, x--, y--;
		if (d > 0) {
			if (x == px)
				rev[len++] = ED_INS, y--;
			else
				rev[len++] = ED_DEL, x--;
		}
		x = px, y = py;
	}
	for (long d = 0; d <= d_found; d++)
		free(trace[d]);
	free(trace);
	*ops = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		(*ops)[i] = rev[len - 1 - i];
	*nops = len;
	free(rev);
	return 0;
}

static void emit_line(struct buf *out, char op, const struct line *l)
{
	buf_append(out, &op, 1);
	buf_append(out, l->p, l->len);
	if (!l->len || l->p[l->len - 1] != '\n')
		buf_printf(out, "\n\\ No newline at end of file\n");
}

int diff_unified(const char *path, const char *a, size_t alen, const char *b, size_t blen,
		 int context, struct buf *out)
{
	struct lines A = {0}, B = {0};
	if (a)
		split_lines(a, alen, &A, SIZE_MAX);
	if (b)
		split_lines(b, blen, &B, SIZE_MAX);
	unsigned char *ops = NULL;
	size_t nops = 0;
	myers(&A, &B, &ops, &nops);
	/* Index of each op in A and B. */
	size_t *ai = xmalloc((nops + 1) * sizeof(size_t)), *bi = xmalloc((nops + 1) * sizeof(size_t));
	size_t x = 0, y = 0;
	for (size_t i = 0; i < nops; i++) {
		ai[i] = x, bi[i] = y;
		if (ops[i] != ED_INS)
			x++;
		if (ops[i] != ED_DEL)
			y++;
	}
	ai[nops] = x, bi[nops] = y;
	int hunks = 0;
	size_t i = 0;
	size_t ctx = context < 0 ? 0 : (size_t)context;
	while (i < nops) {
		while (i < nops && ops[i] == ED_EQ)
			i++;
		if (i == nops)
			break;
		size_t start = i > ctx ? i - ctx : 0;
		/* extend while the next change is within 2*ctx equal lines */
		size_t end = i;
		for (;;) {
			while (end < nops && ops[end] != ED_EQ)
				end++;
			size_t eq = end;
			while (eq < nops && ops[eq] == ED_EQ)
				eq++;
			if (eq < nops && eq - end <= 2 * ctx) {
				end = eq;
				continue;
			}
			end = end + ctx < nops ? end + ctx : nops;
			break;
		}
		if (!hunks++)
			buf_printf(out, "--- %s%s\n+++ %s%s\n", a ? "a/" : "", a ? path : "/dev/null",
				   b ? "b/" : "", b ? path : "/dev/null");
		size_t oc = ai[end] - ai[start], nc = bi[end] - bi[start];
		buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", oc ? ai[start] + 1 : ai[start], oc,
			   nc ? bi[start] + 1 : bi[start], nc);
		for (size_t j = start; j < end; j++) {
			if (ops[j] == ED_EQ)
				emit_line(out, ' ', &A.v[ai[j]]);
			else if (ops[j] == ED_DEL)
				emit_line(out, '-', &A.v[ai[j]]);
			else
				emit_line(out, '+', &B.v[bi[j]]);
		}
		i = end;
	}
	free(ai);
	free(bi);
	free(ops);
	free(A.v);
	free(B.v);
	return hunks;
}
