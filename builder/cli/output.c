/* output.c — see output.h. The only printing module besides cmd-*.c and main.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/output.h"

static struct acso_ctx *g;

void out_init(struct acso_ctx *ctx)
{
	g = ctx;
	bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");
	switch (ctx->color_mode) {
	case COLOR_ALWAYS:
		ctx->color = ctx->color_err = true;
		break;
	case COLOR_NEVER:
		ctx->color = ctx->color_err = false;
		break;
	case COLOR_AUTO:
		ctx->color = !no_color && isatty(1) && !ctx->json;
		ctx->color_err = !no_color && isatty(2);
		break;
	}
	if (ctx->json)
		ctx->color = false;
}

static const char *const codes[] = {
	[ST_RESET] = "\033[0m", [ST_BOLD] = "\033[1m", [ST_PASS] = "\033[32m",
	[ST_WARN] = "\033[33m", [ST_FAIL] = "\033[31m", [ST_DIM] = "\033[2m",
	[ST_GPU] = "\033[36m",
};

const char *sty(enum style s) { return g && g->color ? codes[s] : ""; }
const char *sty_err(enum style s) { return g && g->color_err ? codes[s] : ""; }

/* Messages carry the command's name: "acso: build: ...", "acso: warning:
 * build: ...". A message in STYLE.md's "WHAT 'SUBJECT': WHY" form whose WHAT
 * is the command's own verb ("fetch 'URL': HTTP 404" in acso fetch,
 * "verify 'FILE': ..." in acso verify-signature) already says it. */
static bool names_command(const char *msg)
{
	if (!g || !g->cmd)
		return true;
	const char *n = g->cmd->name;
	size_t len = strcspn(n, "-");
	return !strncmp(msg, n, len) && msg[len] == ' ' && msg[len + 1] == '\'';
}

static void vmsg(const char *prefix, enum style s, bool cmd, const char *fmt, va_list ap)
{
	char text[4096];
	vsnprintf(text, sizeof(text), fmt, ap);
	fprintf(stderr, "%s%s%s", sty_err(s), prefix, sty_err(ST_RESET));
	if (cmd && !names_command(text))
		fprintf(stderr, "%s: ", g->cmd->name);
	fputs(text, stderr);
	fputc('\n', stderr);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("acso: ", ST_FAIL, true, fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("acso: warning: ", ST_WARN, true, fmt, ap);
	va_end(ap);
}

void msg_hint(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("hint: ", ST_BOLD, false, fmt, ap);
	va_end(ap);
}

void msg_info(const char *fmt, ...)
{
	if (g && g->verbose < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void msg_verbose(const char *fmt, ...)
{
	if (!g || g->verbose < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int fail(const struct acso_err *e, int code, const char *what, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, what);
	vsnprintf(buf, sizeof(buf), what, ap);
	va_end(ap);
	const char *detail = e && e->msg[0] ? e->msg : acso_strerror(code);
	if (g && g->cmd && !strcmp(buf, g->cmd->name))
		msg_error("%s", detail); /* "acso: build: DETAIL", not "build: build:" */
	else
		msg_error("%s: %s", buf, detail);
	return code == -ACSO_E_LOCKED ? EXIT_LOCKED : EXIT_FAIL;
}

void out_json(struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	fputc('\n', stdout);
}

int out_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "acso: write to standard output failed\n");
		return EXIT_FAIL;
	}
	return code;
}

void fmt_size(uint64_t n, char *buf, size_t len)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < (sizeof(units) / sizeof(units[0]))) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

void fmt_duration(double s, char *buf, size_t len)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void progress_start(struct progress *p)
{
	memset(p, 0, sizeof(*p));
	const char *lines = getenv(PROGRESS_LINES_ENV);
	p->lines = lines && !strcmp(lines, "1");
	p->on = g && g->verbose >= 0 && (p->lines || (!g->json && isatty(2)));
	p->start = now_seconds();
}

static void progress_line(struct progress *p, const char *line)
{
	if (p->lines) {
		/* once a second, and at once when the label (the text before
		 * the first digit: "build: compile ") changes */
		double t = now_seconds();
		size_t lab = strcspn(line, "0123456789");
		bool same = strlen(p->label) == lab && !strncmp(p->label, line, lab);
		if (p->last_line && t - p->last_line < 1.0 && same)
			return;
		p->last_line = t;
		snprintf(p->label, sizeof(p->label), "%.*s", (int)(lab < sizeof(p->label) - 1 ? lab : 0), line);
		fprintf(stderr, "%s%s\n", PROGRESS_LINE_PREFIX, line);
		fflush(stderr);
		return;
	}
	int n = (int)strlen(line);
	fprintf(stderr, "\r%s", line);
	for (int i = n; i < p->width; i++)
		fputc(' ', stderr);
	p->width = n;
	fflush(stderr);
}

void progress_bytes(struct progress *p, const char *name, uint64_t done, uint64_t total)
{
	if (!p->on)
		return;
	double t = now_seconds();
	if (t - p->last < 0.2 && done != total)
		return;
	p->last = t;
	double el = t - p->start;
	double rate = el > 0 ? (double)done / el : 0;
	char d[32], tot[32], r[32], eta[32] = "";
	fmt_size(done, d, sizeof(d));
	fmt_size(total, tot, sizeof(tot));
	fmt_size((uint64_t)rate, r, sizeof(r));
	if (total && rate > 0 && done < total) {
		char e[24];
		fmt_duration((double)(total - done) / rate, e, sizeof(e));
		snprintf(eta, sizeof(eta), "  ETA %s", e);
	}
	char line[256];
	if (total)
		snprintf(line, sizeof(line), "%s  %s / %s  %s/s%s", name, d, tot, r, eta);
	else
		snprintf(line, sizeof(line), "%s  %s  %s/s", name, d, r);
	progress_line(p, line);
}

void progress_text(struct progress *p, const char *fmt, ...)
{
	if (!p->on)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	progress_line(p, line);
}

void progress_end(struct progress *p)
{
	if (p->on && !p->lines && p->width) {
		fputc('\n', stderr);
		p->width = 0;
	}
}

struct json_object *json_from_strv(const struct strv *s)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}
