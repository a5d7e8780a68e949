/* Unit tests for check.c: each rule of `acso check`'s items (pass, warn or
 * fail, and the fix) and the verdict they amount to. The machine is built in
 * memory: a sysinfo that passes everything, changed one fact per case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "machine/check.h"

static struct sysinfo good(void)
{
	return (struct sysinfo){
		.vmx = 4, .lm = 4, .ncpu = 4, .intel = true,
		.dev_kvm = TRI_YES, .kvm_loaded = TRI_YES,
		.libvirt_installed = TRI_YES, .libvirt_enabled = TRI_YES,
		.user = (char *)"seed", .user_in_libvirt = TRI_YES,
		.klog_source = (char *)"/var/log/dmesg",
		.release = (char *)"6.1.0-13-amd64",
		.cmdline = (char *)"intel_iommu=on", .cmd_intel_iommu_on = true,
		.irq_remap = TRI_YES, .secure_boot = TRI_NO,
		.acs_supported = TRI_YES,
		.acs = {.supported = TRI_YES, .evidence = ACS_EV_KALLSYMS, .source = "/proc/kallsyms",
			.symbol = "pcie_acs_overrides"},
	};
}

/* One GPU at 0000:01:00.0 with verdict v in a machine with groups. */
struct machine {
	struct pcidev dev;
	struct gpu_verdict gpu;
	struct iommu_report r;
};

static void machine(struct machine *m, enum verdict v, const char *override)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->dev.addr, "0000:01:00.0");
	m->dev.bus = 1;
	m->gpu.verdict = v;
	m->gpu.override = (char *)override;
	m->r.pci.v = &m->dev, m->r.pci.n = 1;
	m->r.ngroups = 12;
	m->r.gpus = &m->gpu, m->r.ngpus = 1;
	m->r.override_all = (char *)override;
}

static const struct check_item *item(const struct check_list *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->items[i].id, id))
			return &c->items[i];
	return NULL;
}

/* Whether check_items gives item id for sysinfo s on an isolated GPU. */
static bool has_item(const struct sysinfo *s, const char *id)
{
	struct machine m;
	machine(&m, VERDICT_ISOLATED, NULL);
	struct check_list c;
	check_items(&c, s, &m.r, -1);
	bool found = item(&c, id) != NULL;
	check_list_free(&c);
	return found;
}

/* The status of item id for sysinfo s on an isolated GPU. */
static enum check_status status_of(const struct sysinfo *s, const char *id)
{
	struct machine m;
	machine(&m, VERDICT_ISOLATED, NULL);
	struct check_list c;
	check_items(&c, s, &m.r, -1);
	const struct check_item *it = item(&c, id);
	assert_non_null(it);
	enum check_status st = it->status;
	check_list_free(&c);
	return st;
}

static void test_all_pass_ready(void **state)
{
	struct sysinfo s = good();
	struct machine m;
	machine(&m, VERDICT_ISOLATED, NULL);
	struct check_list c;
	check_items(&c, &s, &m.r, -1);
	assert_int_equal(c.n, 11);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.items[i].status, CHECK_PASS);
		assert_null(c.items[i].fix);
	}
	char *by = (char *)"x";
	assert_int_equal(check_verdict(&c, &by), CHECK_READY);
	assert_null(by);
	check_list_free(&c);
}

static void test_cpu(void **state)
{
	struct sysinfo s = good();
	s.vmx = 0;
	assert_int_equal(status_of(&s, "cpu_virt"), CHECK_FAIL);
	s.svm = 2;   /* AMD-V counts as well */
	assert_int_equal(status_of(&s, "cpu_virt"), CHECK_PASS);
	s = good();
	s.lm = 0;
	assert_int_equal(status_of(&s, "long_mode"), CHECK_FAIL);
	/* unreadable /proc/cpuinfo: virtualization fails, no long mode item */
	s.ncpu = -1;
	assert_int_equal(status_of(&s, "cpu_virt"), CHECK_FAIL);
	struct machine m;
	machine(&m, VERDICT_ISOLATED, NULL);
	struct check_list c;
	check_items(&c, &s, &m.r, -1);
	assert_null(item(&c, "long_mode"));
	check_list_free(&c);
}

static void test_kvm_libvirt(void **state)
{
	struct sysinfo s = good();
	s.kvm_loaded = TRI_UNKNOWN;   /* no /proc/modules: built in */
	assert_int_equal(status_of(&s, "kvm"), CHECK_PASS);
	s.kvm_loaded = TRI_NO;
	assert_int_equal(status_of(&s, "kvm"), CHECK_WARN);
	s.dev_kvm = TRI_NO;
	assert_int_equal(status_of(&s, "kvm"), CHECK_FAIL);
	s = good();
	s.libvirt_installed = TRI_NO;
	assert_int_equal(status_of(&s, "libvirt"), CHECK_WARN);
	s = good();
	s.user_in_libvirt = TRI_NO;
	assert_int_equal(status_of(&s, "libvirt_group"), CHECK_WARN);
	s.user = (char *)"root";   /* root needs no group: not checked */
	assert_int_equal(status_of(&s, "libvirt_group"), CHECK_INFO);
	/* installed but not enabled, or only the client: no pass */
	s = good();
	s.libvirt_enabled = TRI_NO;
	assert_int_equal(status_of(&s, "libvirt"), CHECK_WARN);
	s.libvirt_installed = TRI_NO, s.virsh_only = true;
	assert_int_equal(status_of(&s, "libvirt"), CHECK_WARN);
	/* Proxmox VE: the qm item instead of libvirt's two */
	s = good();
	s.libvirt_installed = TRI_NO, s.proxmox = true, s.proxmox_evidence = "/etc/pve";
	assert_int_equal(status_of(&s, "qm"), CHECK_PASS);
	assert_false(has_item(&s, "libvirt"));
	assert_false(has_item(&s, "libvirt_group"));
}

static void test_virtual_machine(void **state)
{
	struct sysinfo s = good();
	struct check_list c;
	s.hypervisor = true, s.acpi_iommu_table = TRI_NO;
	check_items(&c, &s, NULL, -1);
	assert_non_null(strstr(item(&c, "iommu")->summary, "in this virtual machine"));
	assert_non_null(strstr(item(&c, "iommu")->fix, "the IOMMU must come from the host"));
	check_list_free(&c);
	/* a virtual IOMMU given: the usual advice */
	s.acpi_iommu_table = TRI_YES;
	check_items(&c, &s, NULL, -1);
	assert_null(strstr(item(&c, "iommu")->fix, "from the host"));
	check_list_free(&c);
}

static void test_gpu_display(void **state)
{
	struct sysinfo s = good();
	struct machine m;
	struct check_list c;
	machine(&m, VERDICT_ISOLATED, NULL);
	assert_false(has_item(&s, "gpu_display"));
	s.boot_vga = (char *)"0000:01:00.0";
	assert_int_equal(status_of(&s, "gpu_display"), CHECK_WARN);
	s.no_vt = true;                         /* no VT: no console on the boot VGA */
	assert_false(has_item(&s, "gpu_display"));
	s.no_vt = false;
	s.boot_vga = (char *)"0000:00:02.0";   /* another device: not this GPU */
	s.panel = (char *)"0000:01:00.0", s.panel_connector = (char *)"card1-eDP-1";
	check_items(&c, &s, &m.r, -1);
	assert_non_null(strstr(item(&c, "gpu_display")->summary, "laptop's panel (card1-eDP-1)"));
	check_list_free(&c);
}

static void test_next_step(void **state)
{
	struct sysinfo s = good();
	char *n = check_next_step(&s, CHECK_READY_AFTER_OVERRIDE, "downstream");
	assert_non_null(strstr(n, "this kernel carries the override"));
	free(n);
	s.acs_supported = TRI_UNKNOWN, s.secure_boot = TRI_YES;
	n = check_next_step(&s, CHECK_READY_AFTER_OVERRIDE, "downstream");
	assert_non_null(strstr(n, "'acso run' builds the kernel and signs it for Secure Boot"));
	assert_null(strstr(n, "turned off")); /* issue 13: never "turn Secure Boot off" */
	free(n);
	s.proxmox = true;
	n = check_next_step(&s, CHECK_READY, NULL);
	assert_non_null(strstr(n, "qm set VMID -hostpci0"));
	free(n);
	assert_null(check_next_step(&s, CHECK_BLOCKED, NULL));
}

static void test_iommu_and_cmdline(void **state)
{
	struct sysinfo s = good();
	struct machine m;
	machine(&m, VERDICT_ISOLATED, NULL);
	m.r.ngroups = 0;   /* the IOMMU is off */
	s.cmd_intel_iommu_on = false;
	s.cmdline = (char *)"quiet";
	struct check_list c;
	check_items(&c, &s, &m.r, -1);
	assert_int_equal(item(&c, "iommu")->status, CHECK_FAIL);
	assert_non_null(strstr(item(&c, "iommu")->fix, "intel_iommu=on"));
	assert_int_equal(item(&c, "cmdline")->status, CHECK_FAIL);
	assert_null(item(&c, "gpu"));   /* no groups: no GPU item */
	char *by = NULL;
	assert_int_equal(check_verdict(&c, &by), CHECK_BLOCKED);
	assert_string_equal(by, "IOMMU, kernel command line");
	free(by);
	check_list_free(&c);
	/* AMD: never advise amd_iommu=on */
	s.intel = false, s.amd = true;
	check_items(&c, &s, NULL, -1);
	assert_non_null(strstr(item(&c, "iommu")->fix, "do not add amd_iommu=on"));
	assert_int_equal(item(&c, "cmdline")->status, CHECK_PASS);
	check_list_free(&c);

	/* with groups, a missing intel_iommu=on is fine (on by default) */
	s = good();
	s.cmd_intel_iommu_on = false;
	assert_int_equal(status_of(&s, "cmdline"), CHECK_PASS);
	s.cmd_intel_iommu_off = true;
	assert_int_equal(status_of(&s, "cmdline"), CHECK_FAIL);
	s = good();
	s.cmd_amd_iommu_on = true;   /* not a valid value */
	assert_int_equal(status_of(&s, "cmdline"), CHECK_WARN);
	s.cmdline = NULL;
	assert_int_equal(status_of(&s, "cmdline"), CHECK_WARN);
}

/* The Secure Boot line names the key and what it still needs. */
static void secure_boot_cases(struct sysinfo *s)
{
	static const struct {
		const char *cert, *origin, *enrolled;
		enum check_status st;
		const char *summary, *fix;
	} cases[] = {
		{NULL, NULL, NULL, CHECK_WARN, "on: no MOK yet; acso install makes one", "must be enrolled once"},
		{"/var/lib/dkms/mok.pub", "dkms", "enrolled", CHECK_PASS,
		 "signs the new kernel with /var/lib/dkms/mok.pub (Debian's DKMS MOK), enrolled", NULL},
		{"/var/lib/shim-signed/mok/MOK.der", "ubuntu", "not enrolled", CHECK_WARN,
		 "/var/lib/shim-signed/mok/MOK.der (Ubuntu's shim-signed MOK), which is not enrolled", "enrol it first: 'sudo acso sign"},
		{"/var/lib/dkms/mok.pub", "dkms", "pending", CHECK_WARN, "waits for MokManager", "MokManager"},
		{"/var/lib/dkms/mok.pub", "dkms", "blocked", CHECK_WARN, "is blocked", "makes a new one"},
		{"/var/lib/dkms/mok.pub", "dkms", "unknown", CHECK_WARN, "not known here whether it is enrolled",
		 "'mokutil --test-key /var/lib/dkms/mok.pub' tells"},
	};
	struct machine m;
	machine(&m, VERDICT_ISOLATED, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s->mok_cert = (char *)cases[i].cert, s->mok_origin = cases[i].origin, s->mok_enrolled = cases[i].enrolled;
		struct check_list c;
		check_items(&c, s, &m.r, -1);
		const struct check_item *it = item(&c, "secure_boot");
		assert_non_null(it);
		assert_int_equal(it->status, cases[i].st);
		assert_non_null(strstr(it->summary, cases[i].summary));
		if (cases[i].fix)
			assert_non_null(strstr(it->fix, cases[i].fix));
		else
			assert_null(it->fix);
		assert_null(strstr(it->summary, "turn"));
		check_list_free(&c);
	}
	s->mok_cert = NULL, s->mok_origin = NULL, s->mok_enrolled = NULL;
}

static void test_irq_acs_secure_boot(void **state)
{
	struct sysinfo s = good();
	s.irq_remap = TRI_UNKNOWN;
	assert_int_equal(status_of(&s, "irq_remap"), CHECK_WARN);
	s.klog_source = NULL;   /* no log: not checked */
	assert_int_equal(status_of(&s, "irq_remap"), CHECK_INFO);
	s = good();
	s.log_acs_parse_error = true;
	assert_int_equal(status_of(&s, "acs_override"), CHECK_FAIL);
	s = good();
	s.acs_supported = TRI_NO;
	assert_int_equal(status_of(&s, "acs_override"), CHECK_WARN);
	s.log_acs_enabled = true;   /* the boot line wins */
	assert_int_equal(status_of(&s, "acs_override"), CHECK_PASS);
	s = good();
	s.acs_supported = s.acs.supported = TRI_UNKNOWN;   /* unknown: information, not a pass */
	s.acs.evidence = ACS_EV_NONE;
	assert_int_equal(status_of(&s, "acs_override"), CHECK_INFO);
	s = good();
	s.secure_boot = TRI_YES;
	assert_int_equal(status_of(&s, "secure_boot"), CHECK_WARN);
	s.secure_boot = TRI_UNKNOWN;
	assert_int_equal(status_of(&s, "secure_boot"), CHECK_INFO);
	s.secure_boot = TRI_YES;
	secure_boot_cases(&s);
	s.secure_boot = TRI_UNKNOWN;
	assert_int_equal(status_of(&s, "secure_boot"), CHECK_INFO);
}

static void test_gpu_verdicts(void **state)
{
	struct sysinfo s = good();
	struct machine m;
	struct check_list c;
	char *by = NULL;
	/* shared, and an override splits it: warn, ready after the override */
	machine(&m, VERDICT_SHARED, "id:8086:1901");
	check_items(&c, &s, &m.r, -1);
	assert_int_equal(item(&c, "gpu")->status, CHECK_WARN);
	assert_string_equal(item(&c, "gpu")->summary, "01:00.0 shares its group");
	assert_non_null(strstr(item(&c, "gpu")->fix, "pcie_acs_override=id:8086:1901"));
	assert_int_equal(check_verdict(&c, &by), CHECK_READY_AFTER_OVERRIDE);
	check_list_free(&c);
	/* shared and no override helps: fail, blocked by the GPU group */
	machine(&m, VERDICT_SHARED, NULL);
	check_items(&c, &s, &m.r, -1);
	assert_int_equal(item(&c, "gpu")->status, CHECK_FAIL);
	assert_non_null(strstr(item(&c, "gpu")->fix, "another PCIe slot"));
	assert_int_equal(check_verdict(&c, &by), CHECK_BLOCKED);
	assert_string_equal(by, "GPU group");
	free(by);
	check_list_free(&c);
	/* no GPU at all */
	machine(&m, VERDICT_ISOLATED, NULL);
	m.r.ngpus = 0;
	check_items(&c, &s, &m.r, -1);
	assert_int_equal(item(&c, "gpu")->status, CHECK_FAIL);
	check_list_free(&c);
}

static void test_names(void **state)
{
	assert_string_equal(check_status_name(CHECK_WARN), "warn");
	assert_string_equal(check_verdict_name(CHECK_READY_AFTER_OVERRIDE), "ready_after_override");
	assert_string_equal(check_verdict_name(CHECK_BLOCKED), "blocked");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_pass_ready),
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_kvm_libvirt),
		cmocka_unit_test(test_virtual_machine),
		cmocka_unit_test(test_gpu_display),
		cmocka_unit_test(test_next_step),
		cmocka_unit_test(test_iommu_and_cmdline),
		cmocka_unit_test(test_irq_acs_secure_boot),
		cmocka_unit_test(test_gpu_verdicts),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
