/* Unit tests for boot/ (params, cmdline, grub-eval, grub, grub-menu,
 * bootmgr): the pcie_acs_override grammar, command-line words,
 * CPU vendor, planning (drop-in, fallback edit, remove) and its error paths,
 * boot entries, boot manager detection, /etc/kernel/cmdline and its undo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "boot/bootmgr.h"
#include "boot/cmdline.h"
#include "boot/grub.h"
#include "boot/params.h"
#include "base/util.h"

static char *mkroot(void)
{
	char tmpl[] = "/tmp/acso-unit-grub.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void put(const char *root, const char *rel, const char *text)
{
	_cleanup_free_ char *p = path_join(root, rel);
	_cleanup_free_ char *dir = xstrndup(p, (size_t)(strrchr(p, '/') - p));
	assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0755), 0);
	assert_true(write_file_atomic(AT_FDCWD, p, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
}

static void cleanup_root(char *root)
{
	rm_rf_at(AT_FDCWD, root);
	free(root);
}

static void test_acs_grammar(void **state)
{
	struct acso_err e = {0};
	assert_int_equal(acs_mode_check("downstream", &e), 0);
	assert_int_equal(acs_mode_check("downstream,multifunction", &e), 0);
	assert_int_equal(acs_mode_check("id:10de:1e07", &e), 0);
	assert_int_equal(acs_mode_check("id:10DE:1e07,multifunction,downstream", &e), 0);
	assert_int_equal(acs_mode_check("", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check(NULL, &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("upstream", &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "'upstream'"));
	assert_int_equal(acs_mode_check("id:10de:1e0", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("id:10de:1e07a", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("id:10de-1e07", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("downstream,", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check(",downstream", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("a,,b", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("downstream multifunction", &e), -ACSO_E_PARSE);
	struct buf b = {0};
	for (int i = 0; i < 15; i++)
		buf_printf(&b, "%sid:10de:%04x", i ? "," : "", i);
	assert_int_equal(acs_mode_check(buf_str(&b), &e), 0);
	buf_printf(&b, ",id:10de:ffff");
	assert_int_equal(acs_mode_check(buf_str(&b), &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "15"));
	buf_free(&b);
	char big[600];
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(acs_mode_check(big, &e), -ACSO_E_PARSE);
}

/* Each rule mirrors a line of patches/acs-override/quirks-code.c (the
 * parser pcie_acs_override_setup): a mode acso accepts is one the kernel
 * takes whole, without a "PCIe ACS ..." warning at boot. */
static void test_acs_patch_rules(void **state)
{
	struct acso_err e = {0};
	/* line 74: vendor 0x0000 or 0xffff -> "PCIe ACS invalid ID" */
	assert_int_equal(acs_mode_check("id:ffff:ffff", &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "vendor ffff"));
	assert_int_equal(acs_mode_check("id:FFFF:1234", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("downstream,id:0000:1234", &e), -ACSO_E_PARSE);
	/* line 74 checks the vendor only: device ffff is taken */
	assert_int_equal(acs_mode_check("id:10de:ffff", &e), 0);
	/* lines 31-38: exactly 0-9, a-f, A-F (no "0x", no sign, no space) */
	assert_int_equal(acs_mode_check("id:0x10:1e07", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("id:+10d:1e07", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("id: 10d:1e07", &e), -ACSO_E_PARSE);
	/* line 68: 12 characters, ':' at 7 */
	assert_int_equal(acs_mode_check("id:10de1e07", &e), -ACSO_E_PARSE);
	/* lines 56 and 60: strcmp, so case and prefixes count */
	assert_int_equal(acs_mode_check("Downstream", &e), -ACSO_E_PARSE);
	assert_int_equal(acs_mode_check("downstreams", &e), -ACSO_E_PARSE);
	/* line 64: anything else is an "unknown option" the kernel skips */
	assert_int_equal(acs_mode_check("id", &e), -ACSO_E_PARSE);
	/* line 50 (no value) and line 54 (empty items skipped): acso is
	 * stricter, an empty mode registers nothing and is refused */
	assert_int_equal(acs_mode_check("", &e), -ACSO_E_PARSE);
	/* line 78: acso's patch stops at 16 ids (line 7), the classic patch
	 * of the kernels that already carry the override at 15: 15 holds for
	 * both, the 16th is refused */
	struct buf b = {0};
	for (int i = 0; i < 16; i++)
		buf_printf(&b, "%sid:1b36:%04x", i ? "," : "", i);
	assert_int_equal(acs_mode_check(buf_str(&b), &e), -ACSO_E_PARSE);
	buf_free(&b);
}

static void test_cmdline_words(void **state)
{
	assert_int_equal(cmdline_count("quiet intel_iommu=on splash", "intel_iommu"), 1);
	assert_int_equal(cmdline_count("intel_iommu intel_iommu=off", "intel_iommu"), 2);
	assert_int_equal(cmdline_count("intel_iommu_x=1 xintel_iommu=1", "intel_iommu"), 0);
	assert_int_equal(cmdline_count("", "a"), 0);
	assert_int_equal(cmdline_count(NULL, "a"), 0);
	assert_int_equal(cmdline_count_word("a=1 a=2 a=1", "a=1"), 2);
	struct strv p = {0};
	strv_push(&p, "pcie_acs_override=downstream");
	strv_push(&p, "intel_iommu=on");
	static const struct {
		const char *in;
		bool add;
		const char *want;
	} cases[] = {
		{"  quiet\tpcie_acs_override=multifunction intel_iommu splash ", true,
		 "quiet pcie_acs_override=downstream intel_iommu=on splash"}, /* replaced in place */
		{"quiet intel_iommu=on", false, "quiet"},
		{"", false, ""},
		/* issue 17: a parameter already right stays where it is; another
		 * value is replaced where it is; a further copy goes */
		{"root=ZFS=rpool/ROOT/pve-1 intel_iommu=on boot=zfs", true,
		 "root=ZFS=rpool/ROOT/pve-1 intel_iommu=on boot=zfs pcie_acs_override=downstream"},
		{"a intel_iommu=off b pcie_acs_override=multifunction c", true, "a intel_iommu=on b pcie_acs_override=downstream c"},
		{"intel_iommu=off a intel_iommu=on b intel_iommu=on", true, "a intel_iommu=on b pcie_acs_override=downstream"},
		{"intel_iommu=off a intel_iommu b", true, "intel_iommu=on a b pcie_acs_override=downstream"},
		/* issue 12: "--" ends the kernel's words: new ones go before it,
		 * init's words after it are neither replaced nor removed */
		{"root=/dev/sda1 ro -- single", true, "root=/dev/sda1 ro pcie_acs_override=downstream intel_iommu=on -- single"},
		{"-- splash", true, "pcie_acs_override=downstream intel_iommu=on -- splash"},
		{"root=/dev/sda1 --", true, "root=/dev/sda1 pcie_acs_override=downstream intel_iommu=on --"},
		{"quiet -- intel_iommu=off", true, "quiet pcie_acs_override=downstream intel_iommu=on -- intel_iommu=off"},
		{"intel_iommu=on -- intel_iommu=on x", false, "-- intel_iommu=on x"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_free_ char *got = cmdline_apply(cases[i].in, &p, cases[i].add);
		if (strcmp(got, cases[i].want))
			fail_msg("'%s' (add %d): '%s', want '%s'", cases[i].in, cases[i].add, got, cases[i].want);
	}
	strv_free(&p);
}

static void test_cpu_vendor(void **state)
{
	char *root = mkroot();
	int rfd = root_open_dir(root);
	assert_string_equal(cpu_vendor(rfd), "unknown");
	put(root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\n");
	assert_string_equal(cpu_vendor(rfd), "intel");
	put(root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
	assert_string_equal(cpu_vendor(rfd), "amd");
	put(root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: CentaurHauls\n");
	assert_string_equal(cpu_vendor(rfd), "unknown");
	close(rfd);
	cleanup_root(root);
}

static void plan(const char *root, int rfd, bool remove, struct grub_plan *p, int want)
{
	memset(p, 0, sizeof(*p));
	p->remove = remove;
	p->grubd_read = true;
	if (!remove) {
		strv_push(&p->params, "pcie_acs_override=downstream");
		strv_push(&p->params, "intel_iommu=on");
	}
	struct acso_err e = {0};
	assert_int_equal(grub_prepare(root, rfd, p, &e), want);
}

static void test_plan_dropin_and_remove(void **state)
{
	char *root = mkroot();
	put(root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=off\"\nGRUB_CMDLINE_LINUX=\"\"\n");
	int rfd = root_open_dir(root);
	struct grub_plan p;
	plan(root, rfd, false, &p, 0);
	assert_int_equal(p.method, GRUB_METHOD_DROPIN);
	assert_string_equal(p.after.cmdline, "quiet intel_iommu=on pcie_acs_override=downstream"); /* in place */
	assert_string_equal(p.before.cmdline, "quiet intel_iommu=off");
	assert_int_equal(p.changed.n, 1);
	assert_string_equal(p.changed.v[0], GRUB_DROPIN);
	struct acso_err e = {0};
	assert_int_equal(grub_commit(rfd, &p, true, &e), 0);
	assert_int_equal(root_exists(rfd, GRUB_DROPIN), 0);
	assert_int_equal(root_exists(rfd, GRUB_PENDING), 0);
	grub_pending_clear(rfd);
	assert_int_equal(root_exists(rfd, GRUB_PENDING), -ENOENT);
	/* rollback puts the directory back as it was: no drop-in */
	assert_int_equal(grub_rollback(rfd, &p, &e), 0);
	assert_int_equal(root_exists(rfd, GRUB_DROPIN), -ENOENT);
	assert_int_equal(grub_commit(rfd, &p, false, &e), 0);
	grub_plan_free(&p);

	/* second plan: nothing changes */
	plan(root, rfd, false, &p, 0);
	assert_int_equal(p.changed.n, 0);
	grub_plan_free(&p);

	/* remove: the drop-in goes, and grub.d (made by acso) too */
	plan(root, rfd, true, &p, 0);
	assert_int_equal(p.changed.n, 1);
	assert_string_equal(p.after.cmdline, "quiet intel_iommu=off");
	assert_int_equal(grub_commit(rfd, &p, false, &e), 0);
	grub_plan_free(&p);
	assert_int_equal(root_exists(rfd, GRUB_DROPIN_DIR), -ENOENT);

	/* A commit cut off while it made grub.d leaves its staging directory,
	 * never an empty grub.d: the next plan still makes grub.d (and says
	 * so in the drop-in), and its commit removes the leftover. */
	put(root, "etc/default/.grub.d.acso-tmp.999999/99-acso.cfg", "half\n");
	/* a temp of a process still running (our parent) is left to it */
	_cleanup_free_ char *live = xasprintf("etc/default/.grub.acso-tmp.%d", (int)getppid());
	put(root, live, "being written\n");
	plan(root, rfd, false, &p, 0);
	assert_non_null(strstr(p.dropin_text, "acso created /etc/default/grub.d"));
	assert_int_equal(grub_commit(rfd, &p, false, &e), 0);
	grub_plan_free(&p);
	assert_int_equal(root_exists(rfd, GRUB_DROPIN), 0);
	assert_int_equal(root_exists(rfd, "/etc/default/.grub.d.acso-tmp.999999"), -ENOENT);
	_cleanup_free_ char *live_abs = xasprintf("/%s", live);
	assert_int_equal(root_exists(rfd, live_abs), 0);
	close(rfd);
	cleanup_root(root);
}

static void test_plan_fallback_edit(void **state)
{
	char *root = mkroot();
	/* no final newline: the block records that it added one */
	static const char orig[] = "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"";
	put(root, "etc/default/grub", orig);
	put(root, "etc/default/grub.d/99-zz.cfg", "GRUB_CMDLINE_LINUX_DEFAULT=\"splash\"\n");
	int rfd = root_open_dir(root);
	struct grub_plan p;
	plan(root, rfd, false, &p, 0);
	assert_int_equal(p.method, GRUB_METHOD_EDIT);
	assert_string_equal(p.edited, "/etc/default/grub.d/99-zz.cfg");
	assert_string_equal(p.after.cmdline, "splash pcie_acs_override=downstream intel_iommu=on");
	struct acso_err e = {0};
	assert_int_equal(grub_commit(rfd, &p, false, &e), 0);
	grub_plan_free(&p);

	/* grub.d not read: /etc/default/grub gets the block */
	memset(&p, 0, sizeof(p));
	p.grubd_read = false;
	strv_push(&p.params, "iommu=pt");
	assert_int_equal(grub_prepare(root, rfd, &p, &e), 0);
	assert_int_equal(p.method, GRUB_METHOD_EDIT);
	assert_string_equal(p.edited, GRUB_DEFAULT_FILE);
	assert_string_equal(p.after.cmdline, "quiet iommu=pt");
	assert_int_equal(grub_commit(rfd, &p, false, &e), 0);
	grub_plan_free(&p);

	plan(root, rfd, true, &p, 0);
	assert_int_equal(grub_commit(rfd, &p, false, &e), 0);
	grub_plan_free(&p);
	_cleanup_free_ char *now = NULL;
	size_t len;
	assert_int_equal(root_read_file(rfd, GRUB_DEFAULT_FILE, 4096, &now, &len), 0);
	assert_int_equal(len, strlen(orig));
	assert_memory_equal(now, orig, len);
	close(rfd);
	cleanup_root(root);
}

static void test_plan_errors(void **state)
{
	char *root = mkroot();
	int rfd = root_open_dir(root);
	struct grub_plan p;
	struct acso_err e = {0};
	plan(root, rfd, false, &p, -ACSO_E_NOTFOUND); /* no /etc/default/grub */
	grub_plan_free(&p);
	put(root, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n");
	plan(root, rfd, false, &p, -ACSO_E_PARSE);
	grub_plan_free(&p);
	put(root, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=quiet\nfalse\n"); /* set -e, like grub-mkconfig */
	plan(root, rfd, false, &p, -ACSO_E_PARSE);
	grub_plan_free(&p);
	put(root, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n");
	put(root, "etc/default/grub.d/99-acso.cfg", "# someone else's file\n");
	plan(root, rfd, false, &p, -ACSO_E_UNSAFE);
	grub_plan_free(&p);
	_cleanup_free_ char *drop = path_join(root, "etc/default/grub.d/99-acso.cfg");
	unlink(drop);
	/* a file that keeps overriding whatever comes before it, even our block */
	put(root, "etc/default/grub.d/zz.cfg", "GRUB_CMDLINE_LINUX_DEFAULT=quiet\nGRUB_CMDLINE_LINUX=\"pcie_acs_override=x\"\n");
	memset(&p, 0, sizeof(p));
	p.grubd_read = true;
	strv_push(&p.params, "pcie_acs_override=downstream");
	assert_int_equal(grub_prepare(root, rfd, &p, &e), 0); /* block at the end of zz.cfg wins */
	grub_plan_free(&p);
	/* too big */
	struct buf b = {0};
	for (int i = 0; i < (1 << 20) / 16 + 1; i++)
		buf_printf(&b, "# padding line.\n");
	put(root, "etc/default/grub", buf_str(&b));
	buf_free(&b);
	plan(root, rfd, false, &p, -ACSO_E_TOOBIG);
	grub_plan_free(&p);
	assert_int_equal(grub_commit(rfd, &p, false, &e), -EINVAL);
	close(rfd);
	cleanup_root(root);
}

static void test_entries_and_bootmgr(void **state)
{
	char *root = mkroot();
	int rfd = root_open_dir(root);
	struct acso_err e = {0};
	char *entry = NULL;
	assert_int_equal(grub_entry_for(rfd, "6.1.192-acso", &entry, &e), -ENOENT);
	put(root, "boot/grub/grub.cfg",
	    "menuentry 'Debian' $menuentry_id_option 'gnulinux-simple-u1' {\n}\n"
	    "submenu 'Advanced' $menuentry_id_option 'gnulinux-advanced-u1' {\n"
	    "\tmenuentry 'Debian, 6.1.192-acso' $menuentry_id_option 'gnulinux-6.1.192-acso-advanced-u1' {\n\t}\n"
	    "}\n"
	    "menuentry 'Top' $menuentry_id_option 'gnulinux-7.0.1-advanced-u1' {\n}\n");
	assert_int_equal(grub_entry_for(rfd, "6.1.192-acso", &entry, &e), 0);
	assert_string_equal(entry, "gnulinux-advanced-u1>gnulinux-6.1.192-acso-advanced-u1");
	free(entry);
	assert_int_equal(grub_entry_for(rfd, "7.0.1", &entry, &e), 0);
	assert_string_equal(entry, "gnulinux-7.0.1-advanced-u1");
	free(entry);
	assert_int_equal(grub_entry_for(rfd, "6.1.19", &entry, &e), -ACSO_E_NOTFOUND);

	assert_int_equal(bootmgr_detect(rfd), BOOT_UNKNOWN);
	put(root, "etc/kernel/cmdline", "root=/dev/sda1 quiet pcie_acs_override=multifunction\n");
	assert_int_equal(bootmgr_detect(rfd), BOOT_SYSTEMD_BOOT);
	put(root, "etc/default/grub", "GRUB_DEFAULT=0\n");
	assert_int_equal(bootmgr_detect(rfd), BOOT_GRUB);
	put(root, "usr/sbin/grubby", "");
	assert_int_equal(bootmgr_detect(rfd), BOOT_GRUBBY);
	put(root, "usr/bin/kernelstub", "");
	assert_int_equal(bootmgr_detect(rfd), BOOT_KERNELSTUB);
	assert_string_equal(bootmgr_name(BOOT_KERNELSTUB), "kernelstub");

	/* /etc/kernel/cmdline: add, second add, exact undo */
	struct strv p = {0};
	strv_push(&p, "pcie_acs_override=downstream");
	struct kcmdline_plan kp = {0};
	put(root, "etc/kernel/cmdline", "root=/dev/sda1  quiet");
	assert_int_equal(kcmdline_prepare(rfd, &p, false, &kp, &e), 0);
	assert_string_equal(kp.text, "root=/dev/sda1 quiet pcie_acs_override=downstream\n");
	assert_true(kp.changed && kp.backup && kp.record);
	assert_int_equal(kcmdline_commit(rfd, &kp, &e), 0);
	kcmdline_plan_free(&kp);
	assert_int_equal(kcmdline_prepare(rfd, &p, false, &kp, &e), 0);
	assert_false(kp.changed || kp.record_changed); /* nothing to write */
	kcmdline_plan_free(&kp);
	assert_int_equal(kcmdline_prepare(rfd, &p, true, &kp, &e), 0);
	assert_int_equal(kp.undo, KC_UNDO_RESTORE);
	assert_string_equal(kp.text, "root=/dev/sda1  quiet");
	assert_int_equal(kcmdline_commit(rfd, &kp, &e), 0);
	kcmdline_plan_free(&kp);
	assert_int_equal(root_exists(rfd, KCMDLINE_RECORD), -ENOENT);
	assert_int_equal(kcmdline_prepare(rfd, &p, true, &kp, &e), 0);
	assert_int_equal(kp.undo, KC_UNDO_NONE); /* acso added nothing now */
	assert_false(kp.changed);
	kcmdline_plan_free(&kp);

	/* changed after acso's add: only acso's words go, the rest byte for byte */
	assert_int_equal(kcmdline_prepare(rfd, &p, false, &kp, &e), 0);
	assert_int_equal(kcmdline_commit(rfd, &kp, &e), 0);
	kcmdline_plan_free(&kp);
	put(root, "etc/kernel/cmdline", "pcie_acs_override=downstream\troot=/dev/sda1 quiet  mine=1\n");
	assert_int_equal(kcmdline_prepare(rfd, &p, true, &kp, &e), 0);
	assert_int_equal(kp.undo, KC_UNDO_WORDS);
	assert_string_equal(kp.text, "root=/dev/sda1 quiet  mine=1\n");
	kcmdline_plan_free(&kp);

	/* a record that is not acso's */
	put(root, "var/lib/acso/kernel-cmdline", "something else\n\n");
	assert_int_equal(kcmdline_prepare(rfd, &p, true, &kp, &e), -ACSO_E_PARSE);
	kcmdline_plan_free(&kp);
	_cleanup_free_ char *rec = path_join(root, "var/lib/acso/kernel-cmdline");
	unlink(rec);

	/* no file: what kernel-install would use without it */
	_cleanup_free_ char *kc = path_join(root, "etc/kernel/cmdline");
	unlink(kc);
	assert_int_equal(kcmdline_prepare(rfd, &p, false, &kp, &e), -ENOENT);
	kcmdline_plan_free(&kp);
	put(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 initrd=\\initrd.img ro\n");
	assert_int_equal(kcmdline_prepare(rfd, &p, false, &kp, &e), 0);
	assert_null(kp.cur);
	assert_string_equal(kp.text, "root=/dev/sda1 ro pcie_acs_override=downstream\n");
	kcmdline_plan_free(&kp);
	put(root, "usr/lib/kernel/cmdline", "root=/dev/vda2 rw\n");
	assert_int_equal(kcmdline_prepare(rfd, &p, false, &kp, &e), 0);
	assert_string_equal(kp.text, "root=/dev/vda2 rw pcie_acs_override=downstream\n");
	assert_false(kp.backup);
	kcmdline_plan_free(&kp);
	strv_free(&p);

	/* kernelstub, grubby: the record of what acso gave them */
	struct strv bp = {0}, got = {0};
	assert_int_equal(boot_params_read(rfd, &got, &e), -ENOENT);
	strv_push(&bp, "pcie_acs_override=downstream");
	strv_push(&bp, "iommu=pt");
	assert_int_equal(boot_params_write(rfd, &bp, &e), 0);
	assert_int_equal(boot_params_read(rfd, &got, &e), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.v[1], "iommu=pt");
	strv_free(&got);
	assert_int_equal(boot_params_write(rfd, NULL, &e), 0);
	assert_int_equal(boot_params_read(rfd, &got, &e), -ENOENT);
	put(root, "var/lib/acso/boot-params", "pcie_acs_override=downstream\n");
	assert_int_equal(boot_params_read(rfd, &got, &e), -ACSO_E_PARSE);
	strv_free(&got);
	strv_free(&bp);

	struct strv argv = {0};
	assert_int_equal(grub_regen_argv(root, rfd, &argv, &e), -ACSO_E_NOTFOUND);
	put(root, "usr/sbin/grub2-mkconfig", "");
	assert_int_equal(grub_regen_argv(root, rfd, &argv, &e), 0);
	assert_string_equal(argv.v[0], "chroot");
	assert_string_equal(argv.v[2], "grub2-mkconfig");
	strv_free(&argv);
	assert_true(grub_reads_dropins(rfd) == false); /* an empty grub2-mkconfig does not mention grub.d */
	close(rfd);
	cleanup_root(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acs_grammar),
		cmocka_unit_test(test_acs_patch_rules),
		cmocka_unit_test(test_cmdline_words),
		cmocka_unit_test(test_cpu_vendor),
		cmocka_unit_test(test_plan_dropin_and_remove),
		cmocka_unit_test(test_plan_fallback_edit),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_entries_and_bootmgr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
