/* install-step.c — see install-step.h. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "cli/install-step.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/installer.h"

void install_echo_line(void *priv, const char *line)
{
	const struct acso_ctx *ctx = priv;
	if (!ctx->json && ctx->verbose >= 0)
		fprintf(stderr, "  dpkg | %s\n", line);
}

static int preflight_failed(const struct install_plan *plan, const struct acso_err *e, int r, uint64_t boot_free)
{
	if (r == -ACSO_E_STATE) {
		fail(e, r, "install");
		msg_hint("boot another kernel first, or build with another --localversion or version");
		return EXIT_FAIL;
	}
	if (r != -ACSO_E_TOOBIG)
		return fail(e, r, "install");
	char f[32], n[32];
	fmt_size(boot_free, f, sizeof(f));
	fmt_size(plan->boot_needed, n, sizeof(n));
	msg_error("not enough space on /boot: %s free, about %s needed", f, n);
	msg_hint("remove old kernels (apt autoremove --purge, or acso uninstall RELEASE)");
	return EXIT_FAIL;
}

static void report_plan(const struct acso_ctx *ctx, const struct install_plan *plan)
{
	rp_string(RP_JSON, "release", NULL, plan->release);
	rp_string(RP_JSON, "root", NULL, ctx->root);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_text("%s %s%s%s into %s in one dpkg transaction:\n", ctx->dry_run ? "would install" : "installing",
		sty(ST_BOLD), plan->release, sty(ST_RESET), ctx->root);
	rp_open_array("packages");
	for (size_t i = 0; i < plan->n; i++) {
		const struct install_pkg *p = &plan->v[i];
		char sz[32];
		fmt_size(p->info.size, sz, sizeof(sz));
		rp_open_object(NULL);
		rp_string(RP_JSON, "file", NULL, p->path);
		rp_string(RP_ANY, "package", "  %-34s ", p->info.package);
		rp_string(RP_ANY, "version", "%-18s ", p->info.version);
		rp_string(RP_JSON, "architecture", NULL, p->info.architecture);
		rp_int(RP_JSON, "size", NULL, (int64_t)p->info.size);
		rp_text("%s\n", sz);
		rp_string(RP_JSON, "sha256", NULL, p->info.sha256);
		rp_close_object();
	}
	rp_close_array();
	rp_open_array("skipped");
	for (size_t i = 0; i < plan->skipped.n; i++)
		rp_string(RP_ANY, NULL, "  skipped: %s\n", plan->skipped.v[i]);
	rp_close_array();
	fflush(stdout);
}

/* DKMS status for the new kernel, when the root has dkms. */
static void report_dkms(const struct acso_ctx *ctx, enum install_mode mode, const char *release)
{
	struct strv lines = {0};
	bool bad = false;
	int r = install_dkms_status(ctx->root, ctx->rootfd, mode, release, &lines, &bad);
	if (r == -ENOENT)
		return;
	rp_open_array("dkms");
	for (size_t i = 0; i < lines.n; i++)
		rp_string(RP_ANY, NULL, "  dkms: %s\n", lines.v[i]);
	rp_close_array();
	if (r == 0 && !lines.n)
		rp_text("  dkms: no DKMS modules for %s\n", release);
	if (bad) {
		msg_warn("a DKMS module is not installed for '%s'", release);
		msg_hint("fix it before rebooting (a failed NVIDIA module is the usual black screen): dkms status; dkms autoinstall -k %s", release);
	}
	strv_free(&lines);
}

/* Secure Boot: the new kernel signed with the MOK after dpkg, or why not.
 * Not signed is a failure: shim would refuse the kernel. */
static int report_signing(const struct sign_install *s, const char *release)
{
	rp_bool(RP_JSON, "secure_boot", NULL, s->secure_boot);
	if (!s->secure_boot)
		return EXIT_OK;
	if (s->rc < 0) {
		fail(&s->err, s->rc, "sign '%s'", release);
		msg_hint("installed, not signed: with Secure Boot on it will not boot; fix that, then run 'sudo acso sign %s'", release);
		return EXIT_FAIL;
	}
	rp_open_object("signed");
	rp_string(RP_ANY, "image", "  signed: %s", s->job.image);
	rp_string(RP_ANY, "key", " with %s", s->job.mok.key);
	rp_bool(RP_JSON, "created", NULL, s->job.created);
	rp_text("%s\n", s->job.created ? " (a new MOK, made now)" : "");
	rp_string(RP_JSON, "mok_enrolled", NULL, mok_enrol_word(s->job.enrol));
	rp_string(RP_ANY, "hook", "  kernel hook: %s keeps it signed on reinstall\n", SIGN_HOOK_PATH);
	rp_close_object();
	if (s->job.enrol != MOK_ENROLLED) {
		msg_warn("the MOK '%s' is %s: shim refuses the kernel until it is enrolled", s->job.mok.cert,
			 s->job.enrol == MOK_ENROL_UNKNOWN ? "perhaps not enrolled" : mok_enrol_word(s->job.enrol));
		msg_hint("'sudo acso sign %s' enrols it (mokutil --import) on the machine itself", release);
	}
	return EXIT_OK;
}

int install_step(struct acso_ctx *ctx, const struct install_plan *plan)
{
	struct acso_err e = {0};
	uint64_t boot_free = 0;
	int r = install_preflight(ctx->root, ctx->rootfd, plan, &boot_free, &e);
	if (r < 0)
		return preflight_failed(plan, &e, r, boot_free);
	report_begin(ctx);
	report_plan(ctx, plan);
	if (ctx->dry_run) {
		struct sb_state sb;
		sb_read(ctx->rootfd, !strcmp(ctx->root, "/"), &sb);
		if (sb.secure_boot == TRI_YES)
			rp_text("Secure Boot is on: would sign /boot/vmlinuz-%s with the MOK (acso sign)\n", plan->release);
		return report_end(EXIT_OK);
	}
	if (geteuid() != 0) {
		report_discard();
		msg_error("installing packages needs root");
		msg_hint("run: sudo acso install%s", plan->n ? " (same arguments)" : "");
		return EXIT_NEED_ROOT;
	}
	struct install_run run = {.mode = install_mode_for(ctx->root, ctx->rootfd), .on_line = install_echo_line,
				  .priv = ctx};
	r = install_run_dpkg(ctx->root, ctx->work_dir, plan, &run, &e);
	if (r < 0) {
		report_discard();
		if (!run.locked)
			return fail(&e, r, "install");
		fail(&e, r, "install '%s'", plan->release);
		msg_hint("read dpkg's messages above; 'dpkg --audit' shows half-installed packages");
		return EXIT_FAIL;
	}
	if (run.record_failed)
		msg_warn("packages installed, but the record failed: %s", run.record_err.msg);
	report_dkms(ctx, run.mode, plan->release);
	int sr = report_signing(&run.signing, plan->release);
	sign_install_free(&run.signing);
	if (sr)
		return report_end(sr);
	rp_text("installed %s\n", plan->release);
	if (!report_json())
		msg_hint("next: register the boot parameters (acso grub), then reboot into %s", plan->release);
	return report_end(EXIT_OK);
}
