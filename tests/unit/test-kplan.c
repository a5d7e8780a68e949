/* Unit tests for kplan.c, the config plan of `acso config`: what counts as
 * kept, a profile's own base, which symbols a tree defines, the plan run
 * dry and against a stand-in tree whose make olddefconfig is a sed script
 * (what survived, what is unknown, whether the override's own settings
 * survived), and where a failing plan stops. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "kernel/kplan.h"
#include "machine/secureboot.h"

static void put(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *p = path_join(dir, name);
	_cleanup_free_ char *d = xstrdup(p);
	*strrchr(d, '/') = 0;
	assert_int_equal(mkdir_p_at(AT_FDCWD, d, 0755), 0);
	assert_true(write_file_atomic(AT_FDCWD, p, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
}

static char *get(const char *dir, const char *name)
{
	_cleanup_free_ char *p = path_join(dir, name);
	char *t = NULL;
	if (read_file_at(AT_FDCWD, p, 1 << 20, &t, NULL) < 0)
		return NULL;
	return t;
}

/* A stand-in tree and data dir: make olddefconfig applies olddef.sed. */
struct fx {
	char dir[64];
	char *src, *data, *base, *logs, *log;
	struct kplan_in in;
};

static const char tree_kconfig[] =
	"config PCI\n\tbool \"PCI\"\nconfig PCI_QUIRKS\n\tbool\nmenuconfig VFIO\n\ttristate\n"
	"config VFIO_PCI\n\ttristate\nconfig NR_CPUS\n\tint\nconfig SYSTEM_TRUSTED_KEYS\n\tstring\n";

static int fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-kplan-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->src = path_join(f->dir, "src");
	f->data = path_join(f->dir, "data");
	f->base = path_join(f->dir, "base.config");
	f->logs = path_join(f->dir, "logs");
	f->log = path_join(f->logs, "config.log");
	put(f->src, "Makefile", "olddefconfig:\n\t@if [ -f olddef.sed ]; then sed -i -f olddef.sed .config; fi\n");
	put(f->src, "Kconfig", tree_kconfig);
	put(f->src, "olddef.sed", "/CONFIG_NOT_IN_TREE/d\n"); /* as make drops what it does not know */
	put(f->data, "kconfig/acso.config", "CONFIG_SYSTEM_TRUSTED_KEYS=\"\"\nCONFIG_PCI_QUIRKS=y\n");
	put(f->data, "kconfig/vfio.config", "CONFIG_VFIO=m\nCONFIG_VFIO_PCI=m\nCONFIG_NOT_IN_TREE=y\n");
	put(f->data, "kconfig/small.config", "# acso-base: tinyconfig\nCONFIG_NR_CPUS=2\n");
	put(f->dir, "base.config", "CONFIG_PCI=y\n# CONFIG_PCI_QUIRKS is not set\nCONFIG_VFIO=y\n"
				   "CONFIG_SYSTEM_TRUSTED_KEYS=\"debian/certs/x.pem\"\nCONFIG_NR_CPUS=64\n");
	f->in = (struct kplan_in){.src = f->src, .data_dir = f->data, .base = f->base, .pahole = true,
				  .rootfd = -1, .logs = f->logs, .log = f->log};
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *argv[] = {"rm", "-rf", f->dir, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	free(f->src);
	free(f->data);
	free(f->base);
	free(f->logs);
	free(f->log);
	free(f);
	return 0;
}

static const struct kp_req *req(const struct kplan *p, const char *sym)
{
	for (size_t i = 0; i < p->reqs.n; i++)
		if (!strcmp(p->req[i].req->sym, sym))
			return &p->req[i];
	fail_msg("no request for %s", sym);
	return NULL;
}

static void test_satisfied(void **state)
{
	assert_true(kplan_satisfied("y", "y"));
	assert_true(kplan_satisfied("m", "y"));   /* at least m */
	assert_false(kplan_satisfied("y", "m"));
	assert_true(kplan_satisfied("n", NULL));  /* not mentioned is not set */
	assert_true(kplan_satisfied("\"\"", NULL));
	assert_false(kplan_satisfied("y", NULL));
	assert_false(kplan_satisfied("\"\"", "\"x\""));
}

static void test_profile_base(void **state)
{
	assert_string_equal(kplan_profile_base("# x\n# acso-base: tinyconfig\nCONFIG_A=y\n"), "tinyconfig");
	assert_string_equal(kplan_profile_base("# acso-base:\tdefconfig\n"), "defconfig");
	assert_null(kplan_profile_base("# acso-base: tinyconfigs\n"));
	assert_null(kplan_profile_base("CONFIG_A=y\n"));
}

static void test_tree_defines(void **state)
{
	struct fx *f = *state;
	put(f->src, "drivers/Kconfig.x", "  menuconfig   DRM\nconfig FOOBAR\n\tdepends on FOO\n");
	put(f->src, "Documentation/Kconfig", "config DOC_ONLY\n");
	const char *syms[] = {"PCI", "DRM", "FOO", "DOC_ONLY", "VFIO"};
	bool found[5] = {0};
	kplan_tree_defines(f->src, syms, 5, found);
	assert_true(found[0]);
	assert_false(found[1]); /* two spaces: not the form "menuconfig SYM" */
	assert_false(found[2]); /* FOOBAR and "depends on FOO" do not define FOO */
	assert_false(found[3]); /* Documentation is skipped */
	assert_true(found[4]);
}

static void test_dry_run(void **state)
{
	struct fx *f = *state;
	f->in.dry_run = true;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(p.base_kind, "file");
	assert_int_equal(p.nfragments, 2);
	assert_string_equal(kconfig_get(&p.fin, "PCI_QUIRKS"), "y");
	assert_string_equal(kconfig_get(&p.fin, "SYSTEM_TRUSTED_KEYS"), "\"\"");
	assert_int_equal(req(&p, "PCI_QUIRKS")->status, KP_PLANNED);
	assert_true(req(&p, "PCI_QUIRKS")->required);
	assert_false(req(&p, "VFIO_PCI")->required);
	assert_int_equal(p.nmiss, 0);
	_cleanup_free_ char *written = get(f->src, ".config");
	assert_null(written); /* nothing written */
	kplan_free(&p);
}

static void test_survival(void **state)
{
	struct fx *f = *state;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_true(p.required_ok);
	assert_int_equal(req(&p, "PCI_QUIRKS")->status, KP_OK);
	assert_int_equal(req(&p, "NOT_IN_TREE")->status, KP_UNKNOWN);
	assert_int_equal(p.nmiss, 1);
	/* make resets a setting the override needs */
	put(f->src, "olddef.sed", "/CONFIG_NOT_IN_TREE/d\ns/^CONFIG_PCI_QUIRKS=y/# CONFIG_PCI_QUIRKS is not set/\n");
	kplan_free(&p);
	memset(&e, 0, sizeof(e));
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_false(p.required_ok);
	assert_int_equal(req(&p, "PCI_QUIRKS")->status, KP_CHANGED);
	assert_string_equal(req(&p, "PCI_QUIRKS")->got, "n");
	kplan_free(&p);
}

static void test_stops(void **state)
{
	struct fx *f = *state;
	struct kplan p;
	struct acso_err e = {0};
	f->in.src = f->data; /* no Makefile, no Kconfig */
	assert_int_equal(kplan_run(&f->in, &p, &e), -ENOENT);
	assert_int_equal(p.stage, KP_AT_TREE);
	assert_non_null(strstr(p.what, "is not a kernel source tree"));
	kplan_free(&p);
	f->in.src = f->src;
	f->in.profile = "nope";
	memset(&e, 0, sizeof(e));
	assert_true(kplan_run(&f->in, &p, &e) < 0);
	assert_int_equal(p.stage, KP_AT_PROFILE);
	assert_null(get(f->src, ".config")); /* stopped before the tree was touched */
	kplan_free(&p);
}

/* 5.15 and older have no DEBUG_INFO_NONE (5.18): debug info goes off with
 * DEBUG_INFO=n instead, asked with the same weight (issue: 5.15 failed). */
static void test_debug_rule(void **state)
{
	struct fx *f = *state;
	put(f->data, "kconfig/acso.config", "# No debug info.\nCONFIG_DEBUG_INFO_NONE=y\n"
					     "# CONFIG_DEBUG_INFO_DWARF5 is not set\nCONFIG_PCI_QUIRKS=y\n");
	f->in.dry_run = true;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_null(kc_reqs_find(&p.reqs, "DEBUG_INFO_NONE"));
	assert_string_equal(kc_reqs_find(&p.reqs, "DEBUG_INFO")->val, "n");
	assert_string_equal(kc_reqs_find(&p.reqs, "DEBUG_INFO")->origin, "acso.config:2");
	assert_true(req(&p, "DEBUG_INFO")->required);
	kplan_free(&p);
	/* a tree that has it (5.18+) keeps the request as written */
	put(f->src, "lib/Kconfig.debug", "config DEBUG_INFO_NONE\n\tbool\n");
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(kc_reqs_find(&p.reqs, "DEBUG_INFO_NONE")->val, "y");
	assert_null(kc_reqs_find(&p.reqs, "DEBUG_INFO"));
	kplan_free(&p);
}

/* A fragment's m is "at least m": the base's built-in VFIO stays y and is
 * reported as kept; an explicit --set m still makes it a module. */
static void test_at_least_m(void **state)
{
	struct fx *f = *state;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(kconfig_get(&p.fin, "VFIO"), "y");
	assert_int_equal(req(&p, "VFIO")->status, KP_OK);
	size_t i = (size_t)(req(&p, "VFIO") - p.req);
	assert_true(kplan_kept(&p, i));
	kplan_free(&p);
	struct kc_reqs sets = {0};
	assert_int_equal(kconfig_parse_assignment("CONFIG_VFIO=m", &sets, &e), 0);
	f->in.sets = &sets;
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(kconfig_get(&p.fin, "VFIO"), "m");
	kplan_free(&p);
	kc_reqs_free(&sets);
}

/* Module compression as the base had it; where the tree has the 6.12
 * MODULE_COMPRESS switch (default off), the switch too. */
static void test_compress_rule(void **state)
{
	struct fx *f = *state;
	put(f->dir, "base.config", "CONFIG_PCI=y\n# CONFIG_MODULE_COMPRESS_NONE is not set\nCONFIG_MODULE_COMPRESS_ZSTD=y\n");
	f->in.dry_run = true;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(kc_reqs_find(&p.reqs, "MODULE_COMPRESS_ZSTD")->origin, "base");
	assert_null(kc_reqs_find(&p.reqs, "MODULE_COMPRESS")); /* 5.13-6.11: no switch */
	kplan_free(&p);
	put(f->src, "kernel/module/Kconfig", "menuconfig MODULE_COMPRESS\n\tbool\n");
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(kc_reqs_find(&p.reqs, "MODULE_COMPRESS")->val, "y");
	assert_string_equal(kconfig_get(&p.fin, "MODULE_COMPRESS"), "y");
	kplan_free(&p);
	/* a base that does not compress: nothing asked */
	put(f->dir, "base.config", "CONFIG_PCI=y\nCONFIG_MODULE_COMPRESS_NONE=y\n");
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_null(kc_reqs_find(&p.reqs, "MODULE_COMPRESS"));
	kplan_free(&p);
}

/* A base that signs modules (Debian: MODULE_SIG=y, no MODULE_SIG_ALL, an
 * empty key) gets them signed with the build's own generated key. */
static void test_signing_rule(void **state)
{
	struct fx *f = *state;
	put(f->dir, "base.config", "CONFIG_MODULE_SIG=y\n# CONFIG_MODULE_SIG_ALL is not set\nCONFIG_MODULE_SIG_KEY=\"\"\n");
	f->in.dry_run = true;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_string_equal(kconfig_get(&p.fin, "MODULE_SIG_ALL"), "y");
	assert_string_equal(kconfig_get(&p.fin, "MODULE_SIG_KEY"), "\"certs/signing_key.pem\"");
	kplan_free(&p);
	put(f->dir, "base.config", "# CONFIG_MODULE_SIG is not set\n");
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	assert_null(kc_reqs_find(&p.reqs, "MODULE_SIG_ALL"));
	kplan_free(&p);
}

/* Secure Boot on in the root: modules signed, the MOK trusted through the
 * keyrings the tree has (here not the machine keyring: a 5.15-like tree);
 * off: none of it. */
static void test_secureboot_rule(void **state)
{
	struct fx *f = *state;
	put(f->src, "security/integrity/Kconfig", "config INTEGRITY_PLATFORM_KEYRING\n\tbool\nconfig LOAD_UEFI_KEYS\n\tbool\n");
	f->in.dry_run = true;
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0); /* rootfd -1: no Secure Boot */
	assert_null(kc_reqs_find(&p.reqs, "MODULE_SIG_ALL"));
	assert_null(kc_reqs_find(&p.reqs, "LOAD_UEFI_KEYS"));
	kplan_free(&p);
	_cleanup_free_ char *root = path_join(f->dir, "root");
	_cleanup_free_ char *vars = path_join(root, "sys/firmware/efi/efivars");
	assert_int_equal(mkdir_p_at(AT_FDCWD, vars, 0755), 0);
	_cleanup_free_ char *var = path_join(vars, "SecureBoot-" EFI_GLOBAL_GUID);
	assert_true(write_file_atomic(AT_FDCWD, var, "\x06\x00\x00\x00\x01", 5, 0644, WRITE_NOSYNC) >= 0);
	f->in.rootfd = root_open_dir(root);
	assert_true(f->in.rootfd >= 0);
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	close(f->in.rootfd);
	f->in.rootfd = -1;
	assert_string_equal(kc_reqs_find(&p.reqs, "MODULE_SIG_ALL")->origin, "secureboot");
	assert_string_equal(kconfig_get(&p.fin, "MODULE_SIG"), "y");
	assert_string_equal(kconfig_get(&p.fin, "INTEGRITY_PLATFORM_KEYRING"), "y");
	assert_string_equal(kconfig_get(&p.fin, "LOAD_UEFI_KEYS"), "y");
	assert_non_null(strstr(kc_reqs_find(&p.reqs, "LOAD_UEFI_KEYS")->why, "MOK"));
	assert_null(kc_reqs_find(&p.reqs, "INTEGRITY_MACHINE_KEYRING"));
	kplan_free(&p);
}

/* The report's order: asked-for changes, demotions make did, the rest. */
static void test_change_kind(void **state)
{
	struct fx *f = *state;
	put(f->dir, "base.config", "# CONFIG_PCI_QUIRKS is not set\nCONFIG_SND=y\nCONFIG_NR_CPUS=64\n");
	put(f->src, "olddef.sed", "/CONFIG_NOT_IN_TREE/d\ns/^CONFIG_SND=y/CONFIG_SND=m/\ns/NR_CPUS=64/NR_CPUS=8/\n");
	struct kplan p;
	struct acso_err e = {0};
	assert_int_equal(kplan_run(&f->in, &p, &e), 0);
	size_t seen = 0;
	for (size_t i = 0; i < p.nchanges; i++) {
		const struct kc_change *c = &p.changes[i];
		enum kp_change k = kplan_change_kind(&p, c);
		if (!strcmp(c->sym, "PCI_QUIRKS"))
			seen++, assert_int_equal(k, KP_CH_ASKED);
		if (!strcmp(c->sym, "SND"))
			seen++, assert_int_equal(k, KP_CH_DEMOTED);
		if (!strcmp(c->sym, "NR_CPUS"))
			seen++, assert_int_equal(k, KP_CH_OTHER);
	}
	assert_int_equal(seen, 3);
	kplan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_satisfied),
		cmocka_unit_test(test_profile_base),
		cmocka_unit_test_setup_teardown(test_tree_defines, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_survival, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stops, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_debug_rule, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_at_least_m, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_compress_rule, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_signing_rule, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_secureboot_rule, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_change_kind, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
