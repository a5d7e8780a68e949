/* cmd-sign.c — `acso sign RELEASE`: sign /boot/vmlinuz-RELEASE (below
 * --root) for Secure Boot with the machine's MOK (Ubuntu's, Debian DKMS's,
 * or one made now), check it with sbverify, and get the MOK enrolled:
 * mokutil --import on the running system, then what MokManager asks at
 * the next boot. The work is package/sign.c's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/sign.h"

struct sign_args {
	bool no_enrol;
};

#define OPTS struct sign_args
const struct acso_option sign_options[] = {
	OPT_BOOL(0, "no-enrol", no_enrol, "do not run mokutil --import; say what to run instead"),
	OPT_END,
};

static const char *origin_words(const struct sign_job *j)
{
	bool ubuntu = !strcmp(j->mok.cert, "/var/lib/shim-signed/mok/MOK.der");
	if (j->created)
		return ubuntu ? "made by acso where Ubuntu's DKMS looks" : "made by acso where Debian's DKMS looks";
	return ubuntu ? "Ubuntu's (shim-signed, the one DKMS signs with)" : "Debian's, the one DKMS signs with";
}

static const char *tri_words(enum tri t)
{
	return t == TRI_YES ? "on" : t == TRI_NO ? "off" : "unknown";
}

/* The refusal, with what to do about it. */
static int sign_failed(const struct sign_job *j, const struct acso_err *e, int r)
{
	fail(e, r, "sign '%s'", j->release ? j->release : "");
	if (r == -EINVAL)
		msg_hint("give the release as in /boot/vmlinuz-RELEASE, e.g. acso sign 6.1.192-acso");
	else if (r == -ENOENT && j->image[0] && !j->mok.key)
		msg_hint("install the kernel first (acso install), or see which exist: ls /boot/vmlinuz-*");
	else if (r == -ACSO_E_NOTFOUND)
		msg_hint("apt install sbsigntool");
	else if (r == -ACSO_E_UNSAFE)
		msg_hint("a MOK key must be root's alone (chown root:root, chmod 600); if others could read it, "
			 "move the pair away and let acso make a new one, then enrol that");
	else if (r == -ACSO_E_PARSE)
		msg_hint("the key and the certificate must be one pair: put back the matching file, or move both "
			 "away so that acso makes a new pair");
	else if (r == -ACSO_E_UNSUPPORTED && j->mok.key && strstr(e->msg, "certificate"))
		msg_hint("use a MOK made for code signing (move this pair away and acso makes one)");
	else if (r == -ACSO_E_UNSUPPORTED)
		msg_hint("build the kernel with CONFIG_EFI_STUB=y (acso config --set EFI_STUB=y)");
	else if (r == -ACSO_E_CHILD)
		msg_hint("'%s' is as it was; is /boot full? (df -h /boot)", j->image);
	return EXIT_FAIL;
}

static void report_key(const struct sign_job *j)
{
	rp_open_object("key");
	rp_string(RP_JSON, "origin", NULL, j->mok.origin);
	rp_bool(RP_JSON, "created", NULL, j->created);
	rp_string(RP_ANY, "key", "  key:          %s", j->mok.key);
	rp_text(" (%s)\n", origin_words(j));
	rp_string(RP_ANY, "certificate", "  certificate:  %s\n", j->mok.cert);
	rp_string(RP_ANY, "subject", "  subject:      %s\n", j->mok.subject[0] ? j->mok.subject : NULL);
	rp_string(RP_ANY, "sha1", "  SHA-1:        %s\n", j->mok.sha1[0] ? j->mok.sha1 : NULL);
	rp_close_object();
}

/* What MokManager, shim's blue screen, asks at the next boot. */
static void tell_mokmanager(const struct sign_job *j)
{
	rp_text("\nAt the next boot shim starts MokManager (a blue screen) before GRUB:\n"
		"  1. \"Press any key to perform MOK management\": press a key within 10 seconds\n"
		"     (if you miss it, the machine boots on and you run mokutil --import again)\n"
		"  2. choose \"Enroll MOK\", then \"View key 0\" and check the key:\n"
		"       %s\n"
		"     then \"Continue\"\n"
		"  3. \"Enroll the key(s)?\": choose \"Yes\"\n"
		"  4. \"Password:\": type the one-time password you gave mokutil\n"
		"  5. choose \"Reboot\"\n"
		"Then 'mokutil --test-key %s' says it is enrolled.\n",
		j->mok.subject, j->mok.cert);
}

/* Enrol the MOK when it is not: mokutil --import with the terminal on the
 * running system; otherwise say what to run. Returns what enrol became. */
static const char *enrol(const struct acso_ctx *ctx, const struct sign_args *a, const struct sign_job *j)
{
	bool live = !strcmp(ctx->root, "/");
	if (j->enrol == MOK_ENROLLED)
		return "enrolled";
	if (j->enrol == MOK_BLOCKED) {
		msg_warn("the MOK '%s' is blocked (dbx or MokListX): a kernel signed with it will not boot", j->mok.cert);
		msg_hint("move the pair away so acso makes a new one, then enrol that");
		return "blocked";
	}
	if (j->enrol == MOK_PENDING) {
		rp_text("The MOK is waiting for MokManager at the next boot.\n");
		tell_mokmanager(j);
		return "pending";
	}
	if (j->sb.efi == TRI_NO) {
		rp_text("This machine did not boot through EFI: there is no MOK list to enrol into.\n");
		return "no efi";
	}
	if (!live) {
		rp_text("The MOK is not enrolled from here: mokutil writes the EFI variables of the machine it\n"
			"runs on, not of '%s'. On that machine run: sudo mokutil --import %s\n", ctx->root, j->mok.cert);
		return "not asked";
	}
	if (ctx->dry_run || a->no_enrol || ctx->json || !isatty(STDIN_FILENO)) {
		rp_text("%s: sudo mokutil --import %s\n", ctx->dry_run ? "would enrol the MOK" : "enrol the MOK", j->mok.cert);
		return ctx->dry_run ? "would import" : "to import";
	}
	rp_text("\nEnrolling the MOK: mokutil asks for a one-time password (twice).\n"
		"Choose one you can type at the next boot (the keyboard there is US QWERTY).\n");
	fflush(stdout);
	struct acso_err e = {0};
	int r = mok_import(&j->mok, &e);
	if (r < 0) {
		fail(&e, r, "mokutil --import '%s'", j->mok.cert);
		msg_hint("run it yourself: sudo mokutil --import %s", j->mok.cert);
		return "import failed";
	}
	tell_mokmanager(j);
	return "imported";
}

int cmd_sign(struct acso_ctx *ctx, int argc, char **argv)
{
	struct sign_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	struct sign_job j = {.release = argv[first], .dry_run = ctx->dry_run, .live = !strcmp(ctx->root, "/"),
			     .owner_uid = geteuid(), .hostname = host};
	struct acso_err e = {0};
	r = sign_job_run(ctx->rootfd, &j, &e);
	if (r < 0) {
		r = sign_failed(&j, &e, r);
		sign_job_free(&j);
		return r;
	}
	report_begin(ctx);
	const char *done = j.outcome == SIGN_ALREADY ? "already signed" : ctx->dry_run ? "would sign" : "signed";
	rp_string(RP_ANY, "outcome", "%s", done);
	rp_string(RP_ANY, "image", " %s", j.image);
	rp_string(RP_ANY, "root", " (root %s)\n", ctx->root);
	rp_string(RP_JSON, "release", NULL, j.release);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_string(RP_ANY, "secure_boot", "  Secure Boot:  %s", tri_words(j.sb.secure_boot));
	rp_bool(RP_JSON, "setup_mode", NULL, j.sb.setup_mode == TRI_YES);
	rp_text("%s\n", j.sb.setup_mode == TRI_YES ? " (setup mode)" : "");
	if (ctx->dry_run && j.created)
		rp_text("  would make a new MOK (RSA 2048, code signing):\n");
	report_key(&j);
	if (!ctx->dry_run)
		rp_text("  checked:      sbverify accepts the image with this certificate\n");
	rp_string(RP_JSON, "mok_enrolled", NULL, mok_enrol_word(j.enrol));
	if (j.sb.setup_mode == TRI_YES)
		msg_warn("the firmware is in setup mode: nothing checks signatures until a platform key is "
			 "enrolled, so a signed kernel proves nothing yet");
	else if (j.sb.secure_boot != TRI_YES)
		msg_info("Secure Boot is %s here: the signature matters once it is on",
			 tri_words(j.sb.secure_boot));
	rp_string(RP_JSON, "enrol", NULL, enrol(ctx, &a, &j));
	sign_job_free(&j);
	return report_end(EXIT_OK);
}
