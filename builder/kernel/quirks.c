/* quirks.c — the ACS override placed by meaning: a C-aware scanner that
 * finds pci_dev_acs_enabled[] by its declaration, and the placer. See
 * quirks.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/fileio.h"
#include "kernel/quirks.h"
#include "base/util.h"

/* ---- tokens ---- */

enum tok_kind { T_IDENT, T_NUM, T_STR, T_CHAR, T_PUNCT };

struct tok {
	enum tok_kind k;
	size_t s, e;   /* [s, e) in the text */
	int depth;     /* brace depth outside this token ({ and } carry the outer depth) */
};

struct toks {
	const char *text;
	struct tok *v;
	size_t n;
};

static size_t line_of(const char *text, size_t off)
{
	size_t n = 1;
	for (size_t i = 0; i < off; i++)
		n += text[i] == '\n';
	return n;
}

static bool tok_is(const struct toks *T, size_t i, const char *s)
{
	if (i >= T->n)
		return false;
	size_t l = T->v[i].e - T->v[i].s;
	return strlen(s) == l && !memcmp(T->text + T->v[i].s, s, l);
}

static bool tok_ident(const struct toks *T, size_t i)
{
	return i < T->n && T->v[i].k == T_IDENT;
}

static void push(struct toks *T, size_t *cap, enum tok_kind k, size_t s, size_t e, int depth)
{
	if (T->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		T->v = xrealloc(T->v, *cap * sizeof(*T->v));
	}
	T->v[T->n++] = (struct tok){k, s, e, depth};
}

/* Skip a comment or a quoted literal starting at i; returns the index after
 * it, or 0 when it is not terminated. */
static size_t skip_quoted(const char *t, size_t len, size_t i)
{
	char q = t[i];
	for (i++; i < len; i++) {
		if (t[i] == '\\') {
			i++;
			continue;
		}
		if (t[i] == '\n')
			return 0;
		if (t[i] == q)
			return i + 1;
	}
	return 0;
}

static size_t skip_block_comment(const char *t, size_t len, size_t i)
{
	const char *end = memmem(t + i + 2, len - i - 2, "*/", 2);
	return end ? (size_t)(end - t) + 2 : 0;
}

static int tokenize(const char *t, size_t len, struct toks *T, struct acso_err *e)
{
	size_t cap = 0;
	int depth = 0;
	bool line_start = true;
	*T = (struct toks){.text = t};
	for (size_t i = 0; i < len;) {
		char c = t[i];
		if (c == '\n') {
			line_start = true;
			i++;
			continue;
		}
		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		if (c == '/' && i + 1 < len && t[i + 1] == '*') {
			size_t j = skip_block_comment(t, len, i);
			if (!j)
				return err_set(e, -ACSO_E_PARSE, "comment at line %zu is never closed", line_of(t, i));
			i = j;
			continue;
		}
		if (c == '/' && i + 1 < len && t[i + 1] == '/') {
			while (i < len && t[i] != '\n')
				i++;
			continue;
		}
		if (c == '#' && line_start) {
			/* A preprocessor line, continued by backslashes; its
			 * braces (in macro bodies) are not the file's. */
			while (i < len && t[i] != '\n') {
				if (t[i] == '\\' && i + 1 < len && t[i + 1] == '\n')
					i += 2;
				else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
					size_t j = skip_block_comment(t, len, i);
					if (!j)
						return err_set(e, -ACSO_E_PARSE, "comment at line %zu is never closed", line_of(t, i));
					i = j;
				} else
					i++;
			}
			continue;
		}
		line_start = false;
		if (c == '"' || c == '\'') {
			size_t j = skip_quoted(t, len, i);
			if (!j)
				return err_set(e, -ACSO_E_PARSE, "%s at line %zu is never closed",
					       c == '"' ? "string" : "character constant", line_of(t, i));
			push(T, &cap, c == '"' ? T_STR : T_CHAR, i, j, depth);
			i = j;
			continue;
		}
		if (isalpha((unsigned char)c) || c == '_') {
			size_t j = i;
			while (j < len && (isalnum((unsigned char)t[j]) || t[j] == '_'))
				j++;
			push(T, &cap, T_IDENT, i, j, depth);
			i = j;
			continue;
		}
		if (isdigit((unsigned char)c)) {
			size_t j = i;
			while (j < len && (isalnum((unsigned char)t[j]) || t[j] == '_' || t[j] == '.'))
				j++;
			push(T, &cap, T_NUM, i, j, depth);
			i = j;
			continue;
		}
		if (c == '}' && depth > 0)
			depth--;
		push(T, &cap, T_PUNCT, i, i + 1, depth);
		if (c == '{')
			depth++;
		i++;
	}
	return 0;
}

/* Index of the } closing the { at i, or SIZE_MAX. */
static size_t match_brace(const struct toks *T, size_t i)
{
	for (size_t k = i + 1; k < T->n; k++)
		if (T->v[k].depth == T->v[i].depth && tok_is(T, k, "}"))
			return k;
	return SIZE_MAX;
}

static size_t match_paren(const struct toks *T, size_t i, const char *open, const char *close)
{
	int d = 0;
	for (size_t k = i; k < T->n; k++) {
		if (tok_is(T, k, open))
			d++;
		else if (tok_is(T, k, close) && --d == 0)
			return k;
	}
	return SIZE_MAX;
}

/* Tokens [a, b) as C text with conventional spacing:
 * "int (*acs_enabled)(struct pci_dev *dev, u16 acs_flags)", "{ 0 }". */
static char *join(const struct toks *T, size_t a, size_t b)
{
	struct buf out = {0};
	for (size_t k = a; k < b; k++) {
		if (k > a) {
			bool space = true;
			if (tok_is(T, k, ")") || tok_is(T, k, "]") || tok_is(T, k, ",") ||
			    tok_is(T, k, ";") || tok_is(T, k, "["))
				space = false;
			else if (tok_is(T, k - 1, "(") || tok_is(T, k - 1, "[") || tok_is(T, k - 1, "*"))
				space = false;
			else if (tok_is(T, k, "(") && !tok_is(T, k + 1, "*"))
				space = false;
			if (space)
				buf_append(&out, " ", 1);
		}
		buf_append(&out, T->text + T->v[k].s, T->v[k].e - T->v[k].s);
	}
	buf_str(&out);
	return out.data;
}

static bool is_type_word(const struct toks *T, size_t i)
{
	static const char *const words[] = {"int", "char", "short", "long", "unsigned", "signed",
					    "bool", "_Bool", NULL};
	for (const char *const *w = words; *w; w++)
		if (tok_is(T, i, *w))
			return true;
	return false;
}

/* Read the callback member from the struct body [open, close]. */
static int read_callback(const struct toks *T, size_t open, size_t close, struct quirks_table *t,
			 struct acso_err *e)
{
	size_t hit = SIZE_MAX, any = SIZE_MAX, nany = 0;
	for (size_t k = open + 1; k + 4 < close; k++)
		if (tok_is(T, k, "(") && tok_is(T, k + 1, "*") && tok_ident(T, k + 2) &&
		    tok_is(T, k + 3, ")") && tok_is(T, k + 4, "(")) {
			if (tok_is(T, k + 2, "acs_enabled"))
				hit = k;
			any = k, nany++;
		}
	if (hit == SIZE_MAX && nany == 1)
		hit = any;
	if (hit == SIZE_MAX)
		return err_set(e, -ACSO_E_NOTFOUND, "no acs_enabled callback member in the table's struct (line %zu)",
			       line_of(T->text, T->v[open].s));
	size_t start = hit;
	while (start > open + 1 && !tok_is(T, start - 1, ";") && !tok_is(T, start - 1, "{"))
		start--;
	size_t pclose = match_paren(T, hit + 4, "(", ")");
	if (pclose == SIZE_MAX || pclose > close)
		return err_set(e, -ACSO_E_PARSE, "the acs_enabled member is not closed");
	t->callback = join(T, start, pclose + 1);
	t->ret_type = join(T, start, hit);
	/* Parameters: split on commas, drop each one's name. */
	size_t nparams = 0, ps = hit + 5;
	char *types[2] = {NULL, NULL};
	for (size_t k = hit + 5; k <= pclose; k++) {
		if (k == pclose || tok_is(T, k, ",")) {
			size_t pe = k;
			if (pe - ps >= 2 && tok_ident(T, pe - 1) && !is_type_word(T, pe - 1))
				pe--;
			if (nparams < 2)
				types[nparams] = join(T, ps, pe);
			nparams++;
			ps = k + 1;
		}
	}
	int r = 0;
	if (nparams != 2 || !types[0] || strcmp(types[0], "struct pci_dev *"))
		r = err_set(e, -ACSO_E_UNSUPPORTED,
			    "callback '%s' is not (struct pci_dev *, flags): the override does not know this signature",
			    t->callback);
	else if (strcmp(t->ret_type, "int"))
		r = err_set(e, -ACSO_E_UNSUPPORTED, "callback '%s' does not return int", t->callback);
	if (r == 0)
		t->flags_type = TAKE_PTR(types[1]);
	free(types[0]);
	free(types[1]);
	return r;
}

void quirks_table_free(struct quirks_table *t)
{
	free(t->last_entry);
	free(t->ret_type);
	free(t->flags_type);
	free(t->callback);
	*t = (struct quirks_table){0};
}

static bool is_tag_keyword(const struct toks *T, size_t i)
{
	return tok_is(T, i, "struct") || tok_is(T, i, "union") || tok_is(T, i, "enum");
}

static int find_in(const struct toks *T, const char *name, struct quirks_table *t, struct acso_err *e)
{
	*t = (struct quirks_table){0};
	size_t found = SIZE_MAX, open = 0, ndefs = 0;
	for (size_t i = 0; i < T->n; i++) {
		if (T->v[i].depth != 0 || !tok_is(T, i, name) || !tok_is(T, i + 1, "["))
			continue;
		size_t j = match_paren(T, i + 1, "[", "]");
		if (j == SIZE_MAX)
			continue;
		j++;
		/* attributes: __initconst, __attribute__((...)) */
		while (tok_ident(T, j)) {
			j++;
			if (tok_is(T, j, "(")) {
				size_t p = match_paren(T, j, "(", ")");
				if (p == SIZE_MAX)
					break;
				j = p + 1;
			}
		}
		if (tok_is(T, j, "=") && tok_is(T, j + 1, "{")) {
			ndefs++;
			if (found == SIZE_MAX)
				found = i, open = j + 1;
		}
	}
	if (found == SIZE_MAX)
		return err_set(e, -ACSO_E_NOTFOUND, "no definition of the table '%s[]'", name);
	if (ndefs > 1)
		return err_set(e, -ACSO_E_PARSE, "the table '%s[]' is defined %zu times", name, ndefs);
	t->line = line_of(T->text, T->v[found].s);
	t->open = T->v[open].s;
	size_t close = match_brace(T, open);
	if (close == SIZE_MAX)
		return err_set(e, -ACSO_E_PARSE, "the table '%s[]' (line %zu) is never closed", name, t->line);
	t->close = T->v[close].s;

	/* Entries: split on commas at the initializer's own level. */
	size_t starts[2] = {SIZE_MAX, SIZE_MAX}, ends[2] = {0, 0};
	size_t es = open + 1;
	int paren = 0;
	int level = T->v[open].depth + 1;
	for (size_t k = open + 1; k <= close; k++) {
		if (tok_is(T, k, "(") || tok_is(T, k, "["))
			paren++;
		else if (tok_is(T, k, ")") || tok_is(T, k, "]"))
			paren--;
		bool sep = k == close || (paren == 0 && T->v[k].depth == level && tok_is(T, k, ","));
		if (!sep)
			continue;
		if (k > es) {
			t->entries++;
			starts[0] = starts[1], ends[0] = ends[1];
			starts[1] = es, ends[1] = k;
		}
		es = k + 1;
	}
	if (!t->entries || ends[1] - starts[1] != 3 || !tok_is(T, starts[1], "{") ||
	    !tok_is(T, starts[1] + 1, "0") || !tok_is(T, starts[1] + 2, "}"))
		return err_set(e, -ACSO_E_PARSE, "the table '%s[]' (line %zu) does not end with a { 0 } terminator",
			       name, t->line);
	t->term = T->v[starts[1]].s;
	if (starts[0] != SIZE_MAX)
		t->last_entry = join(T, starts[0], ends[0]);

	/* The declaration's start: back over the struct body it may define. */
	size_t k = found;
	while (k > 0) {
		size_t p = k - 1;
		if (T->v[p].depth == 0 && tok_is(T, p, ";"))
			break;
		if (T->v[p].depth == 0 && tok_is(T, p, "}")) {
			size_t m = p;
			while (m > 0 && !(tok_is(T, m, "{") && T->v[m].depth == T->v[p].depth))
				m--;
			if (m >= 1 && (is_tag_keyword(T, m - 1) || (tok_ident(T, m - 1) && m >= 2 && is_tag_keyword(T, m - 2)))) {
				k = m;
				continue;
			}
			break;
		}
		k = p;
	}
	t->decl = T->v[k].s;

	/* The element type's struct, and in it the callback member. */
	size_t tag = SIZE_MAX;
	for (size_t q = k; q < found; q++)
		if (tok_is(T, q, "struct") && tok_ident(T, q + 1)) {
			tag = q + 1;
			break;
		}
	if (tag == SIZE_MAX)
		return 0; /* not a struct table: no callback to read */
	size_t body = SIZE_MAX;
	if (tok_is(T, tag + 1, "{"))
		body = tag + 1;
	else
		for (size_t q = 0; q + 2 < T->n; q++)
			if (T->v[q].depth == 0 && tok_is(T, q, "struct") &&
			    T->v[q + 1].e - T->v[q + 1].s == T->v[tag].e - T->v[tag].s &&
			    !memcmp(T->text + T->v[q + 1].s, T->text + T->v[tag].s, T->v[tag].e - T->v[tag].s) &&
			    tok_is(T, q + 2, "{")) {
				body = q + 2;
				break;
			}
	if (body == SIZE_MAX)
		return 0;
	size_t bclose = match_brace(T, body);
	if (bclose == SIZE_MAX)
		return err_set(e, -ACSO_E_PARSE, "the struct of '%s[]' is never closed", name);
	return read_callback(T, body, bclose, t, e);
}

int quirks_find_table(const char *text, size_t len, const char *name, struct quirks_table *t,
		      struct acso_err *e)
{
	struct toks T;
	*t = (struct quirks_table){0};
	int r = tokenize(text, len, &T, e);
	if (r == 0)
		r = find_in(&T, name, t, e);
	free(T.v);
	if (r < 0)
		quirks_table_free(t);
	return r;
}

/* ---- fragments ---- */

void quirks_fragments_free(struct quirks_fragments *f)
{
	free(f->marker);
	free(f->code);
	free(f->entry);
	free(f->doc);
	free(f->code_file);
	free(f->doc_file);
	free(f->table);
	free(f->doc_param);
	*f = (struct quirks_fragments){0};
}

static int read_fragment(const char *dir, const char *name, char **out, struct acso_err *e)
{
	if (strchr(name, '/') || name[0] == '.')
		return err_set(e, -ACSO_E_PARSE, "placement: fragment name '%s' is not a plain file name", name);
	_cleanup_free_ char *p = path_join(dir, name);
	size_t len;
	int r = read_file_at(AT_FDCWD, p, 256 << 10, out, &len);
	if (r < 0)
		return err_set(e, r, "read '%s': %s", p, strerror(-r));
	return 0;
}

int quirks_load_fragments(const char *dir, struct quirks_fragments *f, struct acso_err *e)
{
	*f = (struct quirks_fragments){0};
	_cleanup_free_ char *p = path_join(dir, "placement");
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, p, 64 << 10, &text, &len);
	if (r < 0)
		return err_set(e, r, "read '%s': %s", p, strerror(-r));
	size_t lineno = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *w[4] = {0};
		int n = 0;
		for (char *s2 = NULL, *tk = strtok_r(line, " \t", &s2); tk; tk = strtok_r(NULL, " \t", &s2)) {
			if (tk[0] == '#')
				break;
			if (n == 4) {
				r = err_set(e, -ACSO_E_PARSE, "%s: too many words on a line", p);
				goto fail;
			}
			w[n++] = tk;
		}
		if (n == 0)
			continue;
		if (!strcmp(w[0], "marker") && n == 2) {
			free(f->marker);
			f->marker = xstrdup(w[1]);
		} else if (!strcmp(w[0], "fragment") && n == 4) {
			char **dst = NULL, **file = NULL;
			if (startswith(w[3], "before-table:")) {
				dst = &f->code, file = &f->code_file;
				free(f->table);
				f->table = xstrdup(w[3] + 13);
			} else if (startswith(w[3], "table-end:")) {
				dst = &f->entry, file = &f->code_file;
				if (f->table && strcmp(f->table, w[3] + 10)) {
					r = err_set(e, -ACSO_E_PARSE, "%s: code and entry name different tables", p);
					goto fail;
				}
			} else if (!strcmp(w[3], "param-entry"))
				dst = &f->doc, file = &f->doc_file;
			else {
				r = err_set(e, -ACSO_E_PARSE, "%s: unknown place '%s'", p, w[3]);
				goto fail;
			}
			free(*dst);
			*dst = NULL;
			if ((r = read_fragment(dir, w[1], dst, e)) < 0)
				goto fail;
			free(*file);
			*file = xstrdup(w[2]);
		} else {
			r = err_set(e, -ACSO_E_PARSE, "%s: line not understood: '%s'", p, w[0]);
			goto fail;
		}
	}
	if (!f->marker || !f->code || !f->entry || !f->table) {
		r = err_set(e, -ACSO_E_PARSE, "%s: needs a marker, a before-table and a table-end fragment", p);
		goto fail;
	}
	strip_trailing(f->entry);
	if (f->doc) {
		/* the entry's name: "\tpcie_acs_override=" */
		const char *s = f->doc + strspn(f->doc, "\t ");
		f->doc_param = xstrndup(s, strcspn(s, "= \t\n"));
	}
	return 0;
fail:
	quirks_fragments_free(f);
	return r;
}

/* ---- placing ---- */

const char *quirks_state_name(enum quirks_state s)
{
	switch (s) {
	case QUIRKS_PLACED: return "placed";
	case QUIRKS_ALREADY_ACSO: return "already-acso";
	case QUIRKS_ALREADY_OTHER: return "already-other";
	}
	return "?";
}

const char *quirks_doc_name(enum quirks_doc d)
{
	switch (d) {
	case QDOC_PLACED: return "placed";
	case QDOC_PRESENT: return "present";
	case QDOC_MISSING_FILE: return "no-file";
	}
	return "?";
}

void quirks_result_free(struct quirks_result *r)
{
	free(r->code);
	free(r->doc_text);
	free(r->callback);
	*r = (struct quirks_result){0};
}

static char *replace_all(const char *s, const char *from, const char *to)
{
	struct buf b = {0};
	size_t fl = strlen(from);
	for (const char *p; (p = strstr(s, from)); s = p + fl) {
		buf_append(&b, s, (size_t)(p - s));
		buf_append(&b, to, strlen(to));
	}
	buf_append(&b, s, strlen(s));
	buf_str(&b);
	return b.data;
}

void quirks_locate_doc(struct quirks_fragments *f, int treefd)
{
	if (!f->doc_file || faccessat(treefd, f->doc_file, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return;
	if (faccessat(treefd, QUIRKS_OLD_DOC_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		free(f->doc_file);
		f->doc_file = xstrdup(QUIRKS_OLD_DOC_FILE);
	}
}

/* Name of a kernel-parameters.txt entry starting at line l, or NULL. */
static char *doc_entry_name(const char *l, const char *end)
{
	if (l[0] != '\t' || l + 1 >= end || !(isalnum((unsigned char)l[1]) || l[1] == '_'))
		return NULL;
	size_t n = 0;
	while (l + 1 + n < end && !strchr("= \t\n[", l[1 + n]))
		n++;
	return xstrndup(l + 1, n);
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t n = 0;
	while (a[n] && tolower((unsigned char)a[n]) == tolower((unsigned char)b[n]))
		n++;
	return n;
}

/* Offset of the line before which the entry `name` belongs. */
static int doc_position(const char *doc, size_t len, const char *name, size_t *at, struct acso_err *e)
{
	char *prev = NULL;
	size_t best_score = 0;
	bool found = false;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(doc + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - doc) + 1 : len;
		char *n = doc_entry_name(doc + i, doc + next);
		if (n) {
			if (prev && strcasecmp(prev, name) < 0 && strcasecmp(name, n) < 0) {
				size_t score = common_prefix(prev, name) + common_prefix(name, n);
				if (!found || score > best_score) {
					found = true;
					best_score = score;
					*at = i;
				}
			}
			free(prev);
			prev = n;
		}
		i = next;
	}
	free(prev);
	if (!found)
		return err_set(e, -ACSO_E_NOTFOUND, "no alphabetical place for '%s' among the parameter entries", name);
	return 0;
}

/* The documentation entry in its alphabetical place, unless the tree has
 * no kernel-parameters.txt or the entry is there. */
static int place_doc(const struct quirks_fragments *f, const char *doc, size_t doc_len,
		     struct quirks_result *out, struct acso_err *e)
{
	if (!doc || !f->doc) {
		out->doc = QDOC_MISSING_FILE;
		return 0;
	}
	_cleanup_free_ char *needle = xasprintf("\t%s=", f->doc_param);
	if (memmem(doc, doc_len, needle, strlen(needle))) {
		out->doc = QDOC_PRESENT;
		return 0;
	}
	size_t at = 0;
	int r = doc_position(doc, doc_len, f->doc_param, &at, e);
	if (r < 0)
		return r;
	struct buf db = {0};
	buf_append(&db, doc, at);
	out->doc_line = line_of(doc, at);
	buf_append(&db, f->doc, strlen(f->doc));
	buf_append(&db, doc + at, doc_len - at);
	buf_str(&db);
	out->doc_text = db.data;
	out->doc_len = db.len;
	out->doc = QDOC_PLACED;
	return 0;
}

int quirks_place(const struct quirks_fragments *f, const char *code, size_t code_len,
		 const char *doc, size_t doc_len, struct quirks_result *out, struct acso_err *e)
{
	*out = (struct quirks_result){0};
	if (memmem(code, code_len, f->marker, strlen(f->marker))) {
		if (!memmem(code, code_len, "(placed by acso)", 16)) {
			out->state = QUIRKS_ALREADY_OTHER;
			out->doc = !doc ? QDOC_MISSING_FILE : QDOC_PRESENT;
			return 0;
		}
		/* An earlier acso run placed the code; it may have been cut
		 * off (kill -9, power loss) before it wrote the documentation,
		 * which is the second file: finish its work. */
		out->state = QUIRKS_ALREADY_ACSO;
		return place_doc(f, doc, doc_len, out, e);
	}
	struct quirks_table t;
	int r = quirks_find_table(code, code_len, f->table, &t, e);
	if (r < 0)
		return r;
	if (!t.ret_type) {
		quirks_table_free(&t);
		return err_set(e, -ACSO_E_NOTFOUND, "the table '%s[]' has no callback member", f->table);
	}
	_cleanup_free_ char *c1 = replace_all(f->code, "@ACS_RET@", t.ret_type);
	_cleanup_free_ char *body = replace_all(c1, "@ACS_FLAGS_TYPE@", t.flags_type);
	if (strstr(body, "@ACS_")) {
		quirks_table_free(&t);
		return err_set(e, -ACSO_E_PARSE, "the code fragment has a placeholder acso does not know");
	}

	/* The code goes before the declaration's line and before the comment
	 * block right above it (which belongs to the table), not before blank
	 * lines or anything else. */
	size_t code_at = t.decl;
	while (code_at > 0 && code[code_at - 1] != '\n')
		code_at--;
	while (code_at > 0) {
		size_t prev = code_at - 1; /* the '\n' ending the line above */
		while (prev > 0 && code[prev - 1] != '\n')
			prev--;
		const char *l = code + prev;
		size_t ll = code_at - 1 - prev;
		while (ll && isspace((unsigned char)*l))
			l++, ll--;
		bool comment = ll && (*l == '*' || startswith(l, "/*") || startswith(l, "//"));
		if (!comment)
			break;
		code_at = prev;
	}
	size_t ls = t.term;
	while (ls > 0 && code[ls - 1] != '\n')
		ls--;
	bool own_line = true;
	for (size_t k = ls; k < t.term; k++)
		if (!isspace((unsigned char)code[k]))
			own_line = false;

	struct buf nb = {0};
	buf_append(&nb, code, code_at);
	if (code_at > 0 && (code_at < 2 || code[code_at - 2] != '\n'))
		buf_append(&nb, "\n", 1);
	out->code_line = line_of(nb.data ? nb.data : "", nb.len);
	buf_append(&nb, body, strlen(body));
	if (code[code_at] != '\n')
		buf_append(&nb, "\n", 1);
	if (own_line) {
		buf_append(&nb, code + code_at, ls - code_at);
		out->entry_line = line_of(nb.data, nb.len);
		buf_append(&nb, code + ls, t.term - ls); /* indentation */
		buf_printf(&nb, "%s\n", f->entry);
		buf_append(&nb, code + ls, code_len - ls);
	} else {
		buf_append(&nb, code + code_at, t.term - code_at);
		out->entry_line = line_of(nb.data, nb.len);
		buf_printf(&nb, "%s ", f->entry);
		buf_append(&nb, code + t.term, code_len - t.term);
	}
	buf_str(&nb);
	quirks_table_free(&t);

	/* Check our own work with the same scanner: the entry must now be
	 * the last one before that table's terminator. */
	struct quirks_table t2;
	r = quirks_find_table(nb.data, nb.len, f->table, &t2, e);
	size_t el = strlen(f->entry);
	if (el && f->entry[el - 1] == ',')
		el--;
	bool ok = r == 0 && t2.last_entry && strlen(t2.last_entry) == el &&
		  !strncmp(t2.last_entry, f->entry, el);
	out->table_line = t2.line;
	out->callback = t2.callback ? xstrdup(t2.callback) : NULL;
	quirks_table_free(&t2);
	if (!ok) {
		buf_free(&nb);
		quirks_result_free(out);
		return r < 0 ? r : err_set(e, -ACSO_E_STATE, "after placing, the entry is not the last of '%s[]'", f->table);
	}
	out->state = QUIRKS_PLACED;
	out->code = nb.data;
	out->code_len = nb.len;
	r = place_doc(f, doc, doc_len, out, e);
	if (r < 0)
		quirks_result_free(out);
	return r;
}
