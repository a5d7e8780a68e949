/* Unit tests for boot/params.c: which GPU --acs auto and --vfio choose, the
 * override they take, and the --vfio refusal of a group that keeps the root
 * file system's disk or the default-route NIC. Machines are the fixtures in
 * tests/fixtures (faithful sysfs trees, see make-fixtures) and copies of
 * them with another root file system or route. */
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
#include "boot/params.h"
#include "boot/pick.h"
#include "machine/iommu.h"

static int fixture_root(const char *dir)
{
	int fd = root_open_dir(dir);
	assert_true(fd >= 0);
	return fd;
}

/* gpu_pick on the fixture NAME (a directory under tests/fixtures or a path). */
static int pick_on(const char *name, const char *gpu, bool want_acs, bool vfio, struct gpu_pick *p)
{
	char *dir = name[0] == '/' ? xstrdup(name) : xasprintf("tests/fixtures/%s", name);
	int fd = fixture_root(dir);
	struct iommu_report r;
	assert_int_equal(iommu_report_build(fd, &r, NULL), 0);
	int q = gpu_pick(&r, gpu, want_acs, vfio, p);
	iommu_report_free(&r);
	close(fd);
	free(dir);
	return q;
}

/* A copy of tests/fixtures/NAME in a temporary directory. */
static char *copy_fixture(const char *name)
{
	char tmpl[] = "/tmp/acso-bootparams-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *src = xasprintf("tests/fixtures/%s/.", name);
	const char *argv[] = {"cp", "-a", src, tmpl, NULL};
	assert_int_equal(spawn_check(argv, &(struct spawn_opts){.log_fd = -1}, NULL), 0);
	free(src);
	return xstrdup(tmpl);
}

static void put(const char *root, const char *path, const char *text)
{
	char *p = xasprintf("%s/%s", root, path);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void link_to(const char *root, const char *dir, const char *name, const char *target)
{
	char *d = xasprintf("%s/%s", root, dir);
	assert_int_equal(mkdir_p_at(AT_FDCWD, d, 0755), 0);
	char *p = xasprintf("%s/%s", d, name);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	free(p);
	free(d);
}

static void drop(char *root)
{
	rm_rf_at(AT_FDCWD, root);
	free(root);
}

/* The seed's machine: two GPUs in one group, no host-critical device in it. */
static void test_seed(void **state)
{
	struct gpu_pick p;
	assert_int_equal(pick_on("seed", NULL, true, false, &p), 0);
	assert_string_equal(p.acs, "id:8086:1901,id:8086:1905"); /* one override for both */
	assert_null(p.vfio_ids);
	gpu_pick_free(&p);
	/* --vfio without --gpu: two GPUs, binding the wrong one takes the display */
	assert_int_equal(pick_on("seed", NULL, false, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_AMBIGUOUS);
	assert_int_equal(p.count, 2);
	gpu_pick_free(&p);
	assert_int_equal(pick_on("seed", "02:00.0", true, true, &p), 0);
	assert_string_equal(p.gpu, "02:00.0");
	assert_string_equal(p.acs, "id:8086:1905");
	assert_string_equal(p.vfio_ids, "10de:1f08,10de:10f9,10de:1ada,10de:1adb");
	gpu_pick_free(&p);
	/* --vfio alone: the other GPU stays in the group, but the host needs neither */
	assert_int_equal(pick_on("seed", "01:00.0", false, true, &p), 0);
	assert_string_equal(p.vfio_ids, "10de:1e04,10de:10f7,10de:1ad6,10de:1ad7");
	gpu_pick_free(&p);
	assert_int_equal(pick_on("seed", "00:17.0", true, false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_NO_SUCH_GPU);
	gpu_pick_free(&p);
	assert_int_equal(pick_on("iommu-off", NULL, true, false, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_IOMMU_OFF);
	gpu_pick_free(&p);
}

/* A clean GPU group: --vfio takes the GPU's functions, no override needed. */
static void test_clean_group(void **state)
{
	struct gpu_pick p;
	assert_int_equal(pick_on("desktop-clean", NULL, true, true, &p), 0);
	assert_string_equal(p.acs, "");
	assert_string_equal(p.verdict, "isolated with its bridge");
	assert_non_null(p.vfio_ids);
	assert_non_null(strchr(p.vfio_ids, ':'));
	gpu_pick_free(&p);
}

/* The NVMe disk of the root file system shares the GPU's group (behind a
 * port with ACS, so no override splits it): --vfio is refused. */
static void test_root_disk_nvme(void **state)
{
	struct gpu_pick p;
	assert_int_equal(pick_on("port-has-acs", NULL, false, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_HOST_CRITICAL);
	assert_string_equal(p.holder, "02:00.0");
	assert_true(p.holder_root_fs);
	assert_null(p.vfio_ids);
	gpu_pick_free(&p);
	assert_int_equal(pick_on("port-has-acs", NULL, true, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_NO_SPLIT);
	gpu_pick_free(&p);

	/* The same disk found by number: booted without an initramfs,
	 * /proc/mounts says /dev/root; mountinfo's 259:2 leads through
	 * /sys/dev/block to the NVMe controller. */
	char *root = copy_fixture("port-has-acs");
	put(root, "proc/mounts", "/dev/root / ext4 rw,relatime 0 0\n");
	char *self = xasprintf("%s/proc/self", root);
	assert_int_equal(mkdir_p_at(AT_FDCWD, self, 0755), 0);
	free(self);
	put(root, "proc/self/mountinfo", "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n");
	link_to(root, "sys/dev/block", "259:2",
		"../../devices/pci0000:00/0000:00:01.1/0000:02:00.0/nvme/nvme0/nvme0n1/nvme0n1p2");
	assert_int_equal(pick_on(root, NULL, false, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_HOST_CRITICAL);
	assert_string_equal(p.holder, "02:00.0");
	assert_true(p.holder_root_fs);
	gpu_pick_free(&p);
	/* The root file system elsewhere: the same group is accepted. */
	put(root, "proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sdz1 rw\n");
	put(root, "proc/mounts", "/dev/sdz1 / ext4 rw,relatime 0 0\n");
	assert_int_equal(pick_on(root, NULL, false, true, &p), 0);
	assert_string_equal(p.vfio_ids, "10de:2484,10de:228b");
	gpu_pick_free(&p);
	drop(root);
}

/* The AMD chipset group: the GPU, the default-route NIC, a SATA controller
 * and the root NVMe disk. --vfio alone is refused (the NIC comes first);
 * with --acs auto the least invasive override splits them all off. */
static void test_default_nic(void **state)
{
	struct gpu_pick p;
	assert_int_equal(pick_on("amd-chipset-shared", NULL, false, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_HOST_CRITICAL);
	assert_string_equal(p.holder, "02:0a.0");
	assert_false(p.holder_root_fs);
	gpu_pick_free(&p);
	assert_int_equal(pick_on("amd-chipset-shared", NULL, true, true, &p), 0);
	assert_string_equal(p.acs, "id:1022:1483");
	assert_string_equal(p.vfio_ids, "1002:73bf,1002:ab28");
	gpu_pick_free(&p);

	/* A broad mode given by hand predicts no split: refused. */
	int fd = fixture_root("tests/fixtures/amd-chipset-shared");
	struct strv params = {0};
	struct acso_err e = {0};
	struct boot_request rq = {.acs = "downstream", .intel_iommu = -1, .vfio = true};
	assert_int_equal(boot_params_decide(fd, &rq, &params, &p, &e), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_HOST_CRITICAL);
	gpu_pick_free(&p);
	assert_int_equal(params.n, 0);
	/* auto: the parameters in order, no intel_iommu on an AMD CPU */
	rq.acs = "auto";
	assert_int_equal(boot_params_decide(fd, &rq, &params, &p, &e), 0);
	assert_int_equal(params.n, 2);
	assert_string_equal(params.v[0], "pcie_acs_override=id:1022:1483");
	assert_string_equal(params.v[1], "vfio-pci.ids=1002:73bf,1002:ab28");
	gpu_pick_free(&p);
	strv_free(&params);
	close(fd);
}

/* The root file system on the SATA controller of that group (sda behind
 * 04:00.0), no default route: the disk alone refuses --vfio. */
static void test_root_disk_sata(void **state)
{
	char *root = copy_fixture("amd-chipset-shared");
	put(root, "proc/mounts", "/dev/sda2 / ext4 rw,relatime 0 0\n");
	put(root, "proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
	link_to(root, "sys/class/block", "sda2",
		"../../devices/pci0000:00/0000:00:01.2/0000:01:00.0/0000:02:08.0/0000:04:00.0/ata1/host0/"
		"target0:0:0/0:0:0:0/block/sda/sda2");
	struct gpu_pick p;
	assert_int_equal(pick_on(root, NULL, false, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_HOST_CRITICAL);
	assert_string_equal(p.holder, "04:00.0");
	assert_true(p.holder_root_fs);
	gpu_pick_free(&p);
	assert_int_equal(pick_on(root, NULL, true, true, &p), 0);
	assert_string_equal(p.vfio_ids, "1002:73bf,1002:ab28");
	gpu_pick_free(&p);
	drop(root);
}

/* A host-critical device that the least invasive override does not split
 * off (still in g->remaining) keeps the refusal, override or not; and a
 * machine without a GPU gives --vfio nothing to bind. Hand-made reports:
 * no fixture has that shape. */
static void test_remaining_and_no_gpu(void **state)
{
	struct pcidev devs[2] = {{.addr = "0000:01:00.0", .vendor = 0x10de, .device = 0x2484},
				 {.addr = "0000:01:00.1", .vendor = 0x8086, .device = 0x1539}};
	devs[0].domain = devs[1].domain = 0;
	struct blocker b = {.dev = 1, .port = -1, .host_critical = true};
	int remaining[] = {1};
	struct gpu_verdict g = {.dev = 0, .group = 1, .verdict = VERDICT_SHARED, .blockers = &b, .nblockers = 1,
				.override = "id:8086:1901", .remaining = remaining, .nremaining = 1};
	struct iommu_report r = {.pci = {.v = devs, .n = 2}, .have_groups_dir = true, .ngroups = 1, .gpus = &g,
				 .ngpus = 1, .root_fs_dev = -1, .nic_dev = 1};
	struct gpu_pick p;
	assert_int_equal(gpu_pick(&r, NULL, true, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_HOST_CRITICAL);
	assert_string_equal(p.holder, "01:00.1");
	assert_false(p.holder_root_fs);
	gpu_pick_free(&p);
	/* the override splits it off: accepted */
	g.nremaining = 0;
	assert_int_equal(gpu_pick(&r, NULL, true, true, &p), 0);
	assert_string_equal(p.vfio_ids, "10de:2484");
	gpu_pick_free(&p);
	/* no GPU: refused, not a read past the list */
	r.ngpus = 0;
	assert_int_equal(gpu_pick(&r, NULL, false, true, &p), -ACSO_E_STATE);
	assert_int_equal(p.status, PICK_NO_GPU);
	gpu_pick_free(&p);
	/* --acs auto alone on it: nothing to split */
	assert_int_equal(gpu_pick(&r, NULL, true, false, &p), 0);
	assert_string_equal(p.acs, "");
	gpu_pick_free(&p);
}

static void test_bad_mode(void **state)
{
	int fd = fixture_root("tests/fixtures/seed");
	struct strv params = {0};
	struct acso_err e = {0};
	struct gpu_pick p;
	struct boot_request rq = {.acs = "sideways", .intel_iommu = -1};
	assert_int_equal(boot_params_decide(fd, &rq, &params, &p, &e), -ACSO_E_PARSE);
	assert_true(e.msg[0]);
	gpu_pick_free(&p);
	rq.acs = "", rq.intel_iommu = 1, rq.iommu_pt = true;
	assert_int_equal(boot_params_decide(fd, &rq, &params, &p, &e), 0);
	assert_int_equal(params.n, 2);
	assert_string_equal(params.v[0], "intel_iommu=on");
	assert_string_equal(params.v[1], "iommu=pt");
	gpu_pick_free(&p);
	strv_free(&params);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_clean_group),
		cmocka_unit_test(test_root_disk_nvme),
		cmocka_unit_test(test_default_nic),
		cmocka_unit_test(test_root_disk_sata),
		cmocka_unit_test(test_remaining_and_no_gpu),
		cmocka_unit_test(test_bad_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
