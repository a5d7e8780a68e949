/* Unit tests for vfio/bind.c: which functions `acso vfio` binds and how
 * (ids, or by address for two identical GPUs), each refusal, the files it
 * writes and puts back byte for byte, the initramfs update and what happens
 * when it fails, and what `acso verify` reads after the reboot. Machines
 * are copies of the fixtures in tests/fixtures (seed-after-override: the
 * seed's machine booted with the override, its 2080 Ti at 01:00 and its
 * 2060 at 02:00 in groups of their own). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "machine/iommu.h"
#include "run/plan.h"
#include <json-c/json.h>
#include "vfio/bind.h"

#include "unit-tmp.h"

#define put unit_put

static char *get(const char *root, const char *path)
{
	char *p = xasprintf("%s/%s", root, path), *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, p, 1 << 20, &text, &len);
	free(p);
	return r < 0 ? NULL : text;
}

static void relink(const char *root, const char *path, const char *target)
{
	char *p = xasprintf("%s/%s", root, path);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

/* A Debian-like machine: initramfs-tools, the running release known. */
static char *debian_machine(const char *fixture, const char *release)
{
	char *root = unit_copy_fixture(fixture);
	put(root, "proc/sys/kernel/osrelease", release);
	put(root, "usr/sbin/update-initramfs", "");
	put(root, "usr/share/initramfs-tools/init", "");
	return root;
}

static char *g_path; /* PATH before a stub was put first */

static int teardown(void **state)
{
	if (g_path)
		setenv("PATH", g_path, 1);
	return rm_tmp(state);
}

static int decide_on(const char *root, const char *gpu, bool force, struct vfio_plan *p)
{
	int fd = root_open_dir(root);
	assert_true(fd >= 0);
	struct iommu_report r;
	assert_int_equal(iommu_report_build(fd, &r, NULL), 0);
	*p = (struct vfio_plan){0};
	int q = vfio_decide(fd, &r, gpu, force, p);
	iommu_report_free(&r);
	close(fd);
	return q;
}

/* A stub for chroot first on PATH (in g_tmp/bin): records its argv in
 * g_tmp/bin/argv, exits with status. Returns that argv file's path. */
static char *stub_chroot(int status)
{
	char *script = xasprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" >\"$(dirname \"$0\")/argv\"\nexit %d\n", status);
	char *bin = xasprintf("%s/bin", g_tmp), *p = xasprintf("%s/chroot", bin);
	put(bin, "chroot", script);
	assert_int_equal(chmod(p, 0755), 0);
	char *path = xasprintf("%s:%s", bin, g_path);
	setenv("PATH", path, 1);
	free(path);
	free(p);
	free(script);
	char *argv = xasprintf("%s/argv", bin);
	free(bin);
	return argv;
}

static int run_vfio(const char *root, struct vfio_request *rq, struct vfio_plan *p, struct acso_err *e)
{
	int fd = root_open_dir(root);
	assert_true(fd >= 0);
	rq->root = root;
	rq->log_fd = -1;
	int q = vfio_plan_build(fd, rq, p, e);
	if (q == 0)
		q = vfio_apply(fd, rq, p, e);
	close(fd);
	return q;
}

/* The seed's machine after the override: the 2080 Ti's four functions are
 * bound by ID, with a softdep for each module that holds one today; the
 * 2060 (already vfio-pci's, other IDs) is left alone. */
static void test_seed_after_override(void **state)
{
	char *root = debian_machine("seed-after-override", "5.3.18-acso");
	struct vfio_plan p;
	assert_int_equal(decide_on(root, "01:00.0", false, &p), 0);
	assert_int_equal(p.nfns, 4);
	assert_string_equal(p.fns[0].addr, "0000:01:00.0");
	assert_string_equal(p.fns[3].addr, "0000:01:00.3");
	assert_false(p.by_address);
	assert_string_equal(p.ids, "10de:1e04,10de:10f7,10de:1ad6,10de:1ad7");
	assert_int_equal(p.softdeps.n, 4);
	assert_string_equal(p.softdeps.v[0], "nvidia");
	assert_string_equal(p.softdeps.v[1], "snd_hda_intel");
	assert_string_equal(p.softdeps.v[2], "xhci_pci");        /* driver xhci_hcd */
	assert_string_equal(p.softdeps.v[3], "i2c_nvidia_gpu");  /* driver nvidia-gpu */
	vfio_plan_free(&p);
	/* No address: two GPUs, none sharing its group — name one. */
	assert_int_equal(decide_on(root, NULL, false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_AMBIGUOUS);
	vfio_plan_free(&p);
	/* The 2060, already held by vfio-pci: no softdep for vfio-pci itself. */
	assert_int_equal(decide_on(root, "0000:02:00.0", false, &p), 0);
	assert_string_equal(p.ids, "10de:1f08,10de:10f9,10de:1ada,10de:1adb");
	assert_int_equal(p.softdeps.n, 0);
	vfio_plan_free(&p);
	free(root);
}

/* Two identical GPUs: ids= would take both, so the functions are bound by
 * address (driver_override before vfio-pci loads). */
static void test_identical_gpus(void **state)
{
	char *root = debian_machine("seed-after-override", "6.1.0-13-amd64");
	const char *ids[] = {"0x1e04", "0x10f7", "0x1ad6", "0x1ad7"};
	for (int f = 0; f < 4; f++) {
		char *path = xasprintf("sys/devices/pci0000:00/0000:00:01.1/0000:02:00.%d/device", f);
		put(root, path, ids[f]);
		free(path);
	}
	struct vfio_plan p;
	assert_int_equal(decide_on(root, "01:00.0", false, &p), 0);
	assert_true(p.by_address);
	assert_null(p.ids);
	assert_string_equal(p.shared_id_with, "02:00.0");
	vfio_plan_free(&p);

	free(stub_chroot(0));
	struct vfio_request rq = {.gpu = "01:00.0"};
	struct acso_err e = {0};
	assert_int_equal(run_vfio(root, &rq, &p, &e), 0);
	char *conf = get(root, VFIO_MODPROBE);
	assert_non_null(conf);
	assert_null(strstr(conf, "ids="));
	assert_non_null(strstr(conf, "install vfio-pci /bin/sh -c 'for d in 0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3;"));
	assert_non_null(strstr(conf, "driver_override"));
	assert_null(strstr(conf, "0000:02:00"));
	assert_non_null(strstr(conf, "softdep nvidia pre: vfio-pci\n"));
	/* 6.1 still has vfio_virqfd as a module of its own */
	char *mods = get(root, VFIO_MODULES);
	assert_non_null(strstr(mods, "vfio_pci\nvfio\nvfio_iommu_type1\nvfio_virqfd\n"));
	free(mods);
	free(conf);
	vfio_plan_free(&p);
	free(root);
}

/* Each refusal. */
static void test_refusals(void **state)
{
	struct vfio_plan p;
	/* the seed before the override: the 2060 shares the 2080 Ti's group,
	 * and the least invasive override is predicted to split it */
	assert_int_equal(decide_on("tests/fixtures/seed", "01:00.0", false, &p), 0);
	assert_string_equal(p.override, "id:8086:1901");
	assert_string_equal(p.ids, "10de:1e04,10de:10f7,10de:1ad6,10de:1ad7");
	vfio_plan_free(&p);
	/* no override splits the NVMe disk off (the port has ACS): with the
	 * root file system elsewhere, the group is merely shared */
	char *shared = unit_copy_fixture("port-has-acs");
	put(shared, "proc/mounts", "/dev/sdz1 / ext4 rw,relatime 0 0\n");
	assert_int_equal(decide_on(shared, NULL, false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_SHARED);
	assert_string_equal(p.holder, "02:00.0");
	vfio_plan_free(&p);
	free(shared);
	rm_tmp(NULL);
	/* the root file system's NVMe disk in the GPU's group */
	assert_int_equal(decide_on("tests/fixtures/port-has-acs", NULL, false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_HOST_CRITICAL);
	assert_string_equal(p.holder, "02:00.0");
	assert_true(p.holder_root_fs);
	vfio_plan_free(&p);
	/* --force does not help there */
	assert_int_equal(decide_on("tests/fixtures/port-has-acs", NULL, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_HOST_CRITICAL);
	vfio_plan_free(&p);
	assert_int_equal(decide_on("tests/fixtures/iommu-off", NULL, false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_IOMMU_OFF);
	vfio_plan_free(&p);
	/* addresses: none there, not an address, not a display device */
	assert_int_equal(decide_on("tests/fixtures/seed-after-override", "05:00.1", false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_NO_DEVICE);
	vfio_plan_free(&p);
	assert_int_equal(decide_on("tests/fixtures/seed-after-override", "gpu0", false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_NO_DEVICE);
	vfio_plan_free(&p);
	assert_int_equal(decide_on("tests/fixtures/seed-after-override", "00:17.0", false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_NOT_DISPLAY);
	vfio_plan_free(&p);
	assert_int_equal(decide_on("tests/fixtures/seed-after-override", "01:00.1", false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_NOT_DISPLAY);
	vfio_plan_free(&p);

	/* the boot console's display: refused, --force binds it with a warning */
	char *root = unit_copy_fixture("seed-after-override");
	put(root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/boot_vga", "1\n");
	assert_int_equal(decide_on(root, "01:00.0", false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_BOOT_CONSOLE);
	assert_string_equal(p.holder, "01:00.0");
	vfio_plan_free(&p);
	assert_int_equal(decide_on(root, "01:00.0", true, &p), 0);
	assert_true(p.boot_console);
	vfio_plan_free(&p);
	/* the other GPU is not the console: no --force needed */
	assert_int_equal(decide_on(root, "02:00.0", false, &p), 0);
	assert_false(p.boot_console);
	vfio_plan_free(&p);
	/* a kernel with virtual terminals: still the console's display */
	put(root, "sys/class/tty/tty0/dev", "4:0\n");
	put(root, "sys/class/tty/ttyS0/dev", "4:64\n");
	assert_int_equal(decide_on(root, "01:00.0", false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_BOOT_CONSOLE);
	vfio_plan_free(&p);
	/* none (a serial console only, as in the e2e guest): no console is
	 * on the boot VGA, so it is bound without --force, and said so */
	char *tty0 = xasprintf("%s/sys/class/tty/tty0", root);
	assert_int_equal(rm_rf_at(AT_FDCWD, tty0), 0);
	free(tty0);
	assert_int_equal(decide_on(root, "01:00.0", false, &p), 0);
	assert_false(p.boot_console);
	assert_true(p.boot_vga_no_vt);
	assert_string_equal(p.holder, "01:00.0");
	vfio_plan_free(&p);
	free(root);
}

/* The whole round: a hand-written acso-vfio.conf and a modules file without
 * a final newline are kept, the initramfs is updated in a chroot, and
 * --remove puts every byte back. */
static void test_apply_and_remove(void **state)
{
	char *root = debian_machine("seed-after-override", "6.8.12-acso");
	const char *user_conf = "# mine\noptions snd_hda_intel power_save=0\n";
	const char *user_mods = "# /etc/initramfs-tools/modules\nloop";
	put(root, VFIO_MODPROBE + 1, user_conf);
	put(root, VFIO_MODULES + 1, user_mods);
	char *argv = stub_chroot(0);
	struct vfio_request rq = {.gpu = "01:00.0"};
	struct vfio_plan p;
	struct acso_err e = {0};
	assert_int_equal(run_vfio(root, &rq, &p, &e), 0);
	assert_int_equal(p.user_lines, 1);
	vfio_plan_free(&p);
	char *conf = get(root, VFIO_MODPROBE);
	assert_true(startswith(conf, user_conf));
	assert_non_null(strstr(conf, "options vfio-pci ids=10de:1e04,10de:10f7,10de:1ad6,10de:1ad7\n"));
	char *mods = get(root, VFIO_MODULES);
	assert_string_equal(mods, "# /etc/initramfs-tools/modules\nloop\n# acso vfio (GPU 01:00.0): vfio-pci before the GPU's drivers\n"
				  "vfio_pci\nvfio\nvfio_iommu_type1\n"); /* 6.8: no vfio_virqfd */
	char *got = get("", argv + 1);
	char *want = xasprintf("%s\nupdate-initramfs\n-u\n-k\n6.8.12-acso\n", root);
	assert_string_equal(got, want);
	free(got);
	unlink(argv);
	/* A second run keeps the first run's originals and changes nothing. */
	assert_int_equal(run_vfio(root, &rq, &p, &e), 0);
	for (size_t i = 0; i < p.nfiles; i++)
		assert_false(p.files[i].changes);
	vfio_plan_free(&p);
	free(conf);
	free(mods);

	struct vfio_request rm = {.remove = true};
	assert_int_equal(run_vfio(root, &rm, &p, &e), 0);
	vfio_plan_free(&p);
	conf = get(root, VFIO_MODPROBE);
	mods = get(root, VFIO_MODULES);
	assert_string_equal(conf, user_conf);
	assert_string_equal(mods, user_mods);
	got = get("", argv + 1);
	assert_string_equal(got, want);  /* updated again */
	char *rec = xasprintf("%s/var/lib/acso/vfio", root);
	assert_int_equal(access(rec, F_OK), -1);
	/* nothing left to remove */
	assert_int_equal(run_vfio(root, &rm, &p, &e), -ACSO_E_STATE);
	assert_int_equal(p.status, VFIO_NOT_BOUND);
	vfio_plan_free(&p);
	free(rec);
	free(got);
	free(want);
	free(argv);
	free(conf);
	free(mods);
	free(root);
}

/* A failing initramfs update puts every file back and keeps no record. */
static void test_update_fails(void **state)
{
	char *root = debian_machine("seed-after-override", "6.1.0");
	const char *user_mods = "loop\n";
	put(root, VFIO_MODULES + 1, user_mods);
	free(stub_chroot(1));
	struct vfio_request rq = {.gpu = "01:00.0"};
	struct vfio_plan p;
	struct acso_err e = {0};
	assert_int_equal(run_vfio(root, &rq, &p, &e), -ACSO_E_CHILD);
	assert_true(p.update_failed);
	assert_non_null(strstr(e.msg, "exited with status 1"));
	vfio_plan_free(&p);
	char *mods = get(root, VFIO_MODULES), *conf = get(root, VFIO_MODPROBE);
	assert_string_equal(mods, user_mods);
	assert_null(conf);
	char *rec = xasprintf("%s/var/lib/acso/vfio/record", root);
	assert_int_equal(access(rec, F_OK), -1);
	free(rec);
	free(mods);
	free(root);
}

/* dracut where the system uses it; --no-update runs nothing. */
static void test_dracut(void **state)
{
	char *root = unit_copy_fixture("seed-after-override");
	put(root, "proc/sys/kernel/osrelease", "6.12.0-acso");
	put(root, "usr/bin/dracut", "");
	char *argv = stub_chroot(0);
	struct vfio_request rq = {.gpu = "01:00.0"};
	struct vfio_plan p;
	struct acso_err e = {0};
	assert_int_equal(run_vfio(root, &rq, &p, &e), 0);
	assert_int_equal(p.tool, INITRAMFS_DRACUT);
	vfio_plan_free(&p);
	char *d = get(root, VFIO_DRACUT);
	assert_string_equal(d, "# acso vfio (GPU 01:00.0): vfio-pci before the GPU's drivers\n"
			       "force_drivers+=\" vfio_pci vfio vfio_iommu_type1 \"\n");
	char *got = get("", argv + 1);
	char *want = xasprintf("%s\ndracut\n-f\n--kver\n6.12.0-acso\n", root);
	assert_string_equal(got, want);
	assert_null(get(root, VFIO_MODULES));
	free(got);
	free(want);
	free(d);
	unlink(argv);
	struct vfio_request rm = {.remove = true, .no_update = true};
	assert_int_equal(run_vfio(root, &rm, &p, &e), 0);
	assert_int_equal(p.update_argv.n, 0);
	vfio_plan_free(&p);
	assert_null(get(root, VFIO_DRACUT));
	assert_int_equal(access(argv, F_OK), -1);
	free(argv);
	free(root);
}

/* After the reboot: every recorded function held by vfio-pci, or not. */
static void test_status_after_reboot(void **state)
{
	char *root = debian_machine("seed-after-override", "6.1.0");
	int fd = root_open_dir(root);
	struct vfio_status_now s;
	assert_int_equal(vfio_status_read(fd, &s, NULL), 0);
	assert_false(s.recorded);
	vfio_status_free(&s);
	struct vfio_request rq = {.gpu = "01:00.0", .no_update = true};
	struct vfio_plan p;
	struct acso_err e = {0};
	assert_int_equal(run_vfio(root, &rq, &p, &e), 0);
	vfio_plan_free(&p);
	/* not rebooted yet: nvidia and friends still hold them */
	assert_int_equal(vfio_status_read(fd, &s, NULL), 0);
	assert_true(s.recorded);
	assert_int_equal(s.nfns, 4);
	assert_string_equal(s.fns[0].driver, "nvidia");
	assert_false(s.all_vfio);
	vfio_status_free(&s);
	for (int f = 0; f < 4; f++) {
		char *path = xasprintf("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.%d/driver", f);
		relink(root, path, "../../../../bus/pci/drivers/vfio-pci");
		free(path);
	}
	assert_int_equal(vfio_status_read(fd, &s, NULL), 0);
	assert_true(s.all_vfio);
	assert_string_equal(s.gpu, "0000:01:00.0");
	assert_false(s.proxmox);
	vfio_status_free(&s);
	/* a record acso cannot read is said, not guessed */
	put(root, "var/lib/acso/vfio/record", "gpu 01:00.0\nbogus line\n");
	assert_int_equal(vfio_status_read(fd, &s, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "bogus line"));
	vfio_status_free(&s);
	close(fd);
	free(root);
}

static void test_virqfd(void **state)
{
	assert_true(vfio_needs_virqfd("5.3.18-acso"));
	assert_true(vfio_needs_virqfd("6.1.0-13-amd64"));
	assert_false(vfio_needs_virqfd("6.2.0"));
	assert_false(vfio_needs_virqfd("7.0.1"));
	assert_false(vfio_needs_virqfd("garbage"));
	assert_false(vfio_needs_virqfd(NULL));
}

/* acso run --vfio: acso vfio is the last step, for the new kernel. */
static void test_run_step(void **state)
{
	size_t n = 0, nv = 0;
	const struct run_step *s = run_steps(false, &n), *sv = run_steps_vfio(false, &nv);
	assert_int_equal(run_find_step(s, n, "vfio"), -1);
	assert_int_equal(nv, n + 1);
	assert_string_equal(sv[nv - 1].name, "vfio");
	assert_true(sv[nv - 1].privileged);
	sv = run_steps_vfio(true, &nv);
	assert_string_equal(sv[nv - 1].name, "vfio");
	assert_string_equal(sv[nv - 2].name, "grub");
	struct json_object *st = json_tokener_parse("{\"steps\":{\"install\":{\"outputs\":{\"release\":\"6.1.192-acso\"}}}}");
	struct run_plan_opts o = {.vfio = true, .gpu = "01:00.0"};
	struct strv a = {0};
	const char *why = NULL;
	assert_int_equal(run_step_args(&o, st, false, "vfio", &a, &why), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "--kernel=6.1.192-acso");
	assert_string_equal(a.v[1], "01:00.0");
	strv_free(&a);
	json_object_put(st);
}

int main(void)
{
	g_path = xstrdup(getenv("PATH"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_seed_after_override, teardown),
		cmocka_unit_test_teardown(test_identical_gpus, teardown),
		cmocka_unit_test_teardown(test_refusals, teardown),
		cmocka_unit_test_teardown(test_apply_and_remove, teardown),
		cmocka_unit_test_teardown(test_update_fails, teardown),
		cmocka_unit_test_teardown(test_dracut, teardown),
		cmocka_unit_test_teardown(test_status_after_reboot, teardown),
		cmocka_unit_test_teardown(test_virqfd, teardown),
		cmocka_unit_test_teardown(test_run_step, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
