/* cmd-check.c — `acso check`: the seed's steps 1-3 as a report. Each item
 * is pass, warn or fail with the fix; the verdict is ready, ready after the
 * ACS override, or blocked (by the failed items). Exit 0 / 3 / 4. */
#include <string.h>

#include "cli/commands.h"
#include "cli/groups-render.h"
#include "cli/output.h"
#include "machine/sysinfo.h"


enum status { ST_ITEM_PASS, ST_ITEM_WARN, ST_ITEM_FAIL };

struct item {
	const char *id;
	const char *title;
	enum status status;
	char *summary;
	char *fix;          /* NULL when nothing to do */
};

struct check {
	struct item items[16];
	size_t n;
};

static void add(struct check *c, const char *id, const char *title, enum status st, char *summary, char *fix)
{
	if (c->n >= ARRAY_SIZE(c->items)) {
		free(summary);
		free(fix);
		return;
	}
	c->items[c->n++] = (struct item){id, title, st, summary, fix};
}

static const char *status_name(enum status s)
{
	return s == ST_ITEM_PASS ? "pass" : s == ST_ITEM_WARN ? "warn" : "fail";
}

static char *iommu_fix(const struct sysinfo *s)
{
	const char *grub = "'sudo acso grub' adds it to GRUB (or add it to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub and run 'sudo update-grub'), then reboot";
	if (s->amd && !s->intel)
		return xstrdup("turn on the IOMMU (AMD-Vi, often called 'IOMMU' or 'SVM/IOMMU') in the firmware setup; "
			       "the kernel enables it by itself on AMD: do not add amd_iommu=on, it is not a valid value");
	if (s->intel)
		return xasprintf("turn on VT-d in the firmware setup and put intel_iommu=on on the kernel command line: %s", grub);
	return xasprintf("turn on VT-d (Intel) or AMD-Vi (AMD) in the firmware setup; on Intel also put intel_iommu=on on the kernel command line: %s", grub);
}

static void build_items(struct check *c, const struct sysinfo *s, const struct iommu_report *r, int only)
{
	/* CPU */
	int virt = s->vmx > 0 ? s->vmx : s->svm > 0 ? s->svm : 0;
	if (s->ncpu < 0)
		add(c, "cpu_virt", "CPU virtualization", ST_ITEM_FAIL, xstrdup("/proc/cpuinfo could not be read"), NULL);
	else if (virt > 0)
		add(c, "cpu_virt", "CPU virtualization", ST_ITEM_PASS,
		    xasprintf("%d of %d CPUs have %s", virt, s->ncpu, s->vmx > 0 ? "vmx (VT-x)" : "svm (AMD-V)"), NULL);
	else
		add(c, "cpu_virt", "CPU virtualization", ST_ITEM_FAIL, xstrdup("no CPU shows vmx or svm"),
		    xstrdup("turn on VT-x (Intel) or SVM / AMD-V (AMD) in the firmware setup; inside a virtual machine, turn on nested virtualization on the host"));
	if (s->ncpu >= 0)
		add(c, "long_mode", "64-bit (lm)", s->lm > 0 ? ST_ITEM_PASS : ST_ITEM_FAIL,
		    s->lm > 0 ? xasprintf("%d CPUs support long mode", s->lm) : xstrdup("no CPU shows the lm flag"),
		    s->lm > 0 ? NULL : xstrdup("a 64-bit CPU and kernel are needed to give a guest more than 2 GiB"));

	/* KVM */
	if (s->dev_kvm == TRI_YES && s->kvm_loaded == TRI_YES)
		add(c, "kvm", "KVM", ST_ITEM_PASS, xstrdup("/dev/kvm exists and the KVM modules are loaded"), NULL);
	else if (s->dev_kvm == TRI_YES && s->kvm_loaded == TRI_UNKNOWN)
		add(c, "kvm", "KVM", ST_ITEM_PASS, xstrdup("/dev/kvm exists (no /proc/modules: KVM is built in)"), NULL);
	else if (s->dev_kvm == TRI_YES)
		add(c, "kvm", "KVM", ST_ITEM_WARN, xstrdup("/dev/kvm exists but kvm_intel/kvm_amd is not in /proc/modules (built in?)"), NULL);
	else
		add(c, "kvm", "KVM", ST_ITEM_FAIL, xstrdup("/dev/kvm does not exist"),
		    xasprintf("sudo modprobe %s (after turning on virtualization in the firmware setup)",
			      s->amd && !s->intel ? "kvm_amd" : s->intel ? "kvm_intel" : "kvm_intel (or kvm_amd)"));

	/* libvirt */
	const char *inst = s->install_cmd ? s->install_cmd : "install qemu and libvirt with the distribution's package manager";
	if (s->libvirt_installed == TRI_YES)
		add(c, "libvirt", "libvirt", ST_ITEM_PASS, xstrdup("libvirt is installed"), NULL);
	else
		add(c, "libvirt", "libvirt", ST_ITEM_WARN, xasprintf("libvirt is not installed%s%s", s->os_pretty ? " on " : "", s->os_pretty ? s->os_pretty : ""),
		    xstrdup(inst));
	if (s->user && !strcmp(s->user, "root"))
		add(c, "libvirt_group", "libvirt group", ST_ITEM_PASS, xstrdup("running as root (run acso through sudo to check your own user)"), NULL);
	else if (s->user_in_libvirt == TRI_YES)
		add(c, "libvirt_group", "libvirt group", ST_ITEM_PASS, xasprintf("user '%s' is in group libvirt", s->user), NULL);
	else
		add(c, "libvirt_group", "libvirt group", ST_ITEM_WARN,
		    xasprintf("user '%s' is %s group libvirt", s->user ? s->user : "unknown",
			      s->user_in_libvirt == TRI_NO ? "not in" : "perhaps not in (cannot read /etc/group)"),
		    xasprintf("sudo adduser %s libvirt, then log out and back in", s->user ? s->user : "$USER"));

	/* IOMMU */
	bool groups = r && r->ngroups > 0;
	if (groups)
		add(c, "iommu", "IOMMU", ST_ITEM_PASS,
		    xasprintf("%zu IOMMU groups%s%s", r->ngroups, s->log_dmar ? "; DMAR in the kernel log" : s->log_amdvi ? "; AMD-Vi in the kernel log" : "",
			      s->iommu_units > 0 ? "; /sys/class/iommu populated" : ""), NULL);
	else
		add(c, "iommu", "IOMMU", ST_ITEM_FAIL,
		    xasprintf("the IOMMU is off: no IOMMU groups%s; %s%s%s",
			      s->iommu_units > 0 ? "" : ", /sys/class/iommu is empty",
			      s->log_dmar || s->log_amdvi ? "DMAR/AMD-Vi lines but no group in the kernel log" : "no DMAR or AMD-Vi line in the kernel log",
			      s->klog_source ? " " : " (none could be read)", s->klog_source ? s->klog_source : ""),
		    iommu_fix(s));

	/* Command line */
	if (!s->cmdline)
		add(c, "cmdline", "kernel command line", ST_ITEM_WARN, xstrdup("/proc/cmdline could not be read"), NULL);
	else if (s->cmd_amd_iommu_on)
		add(c, "cmdline", "kernel command line", ST_ITEM_WARN, xstrdup("amd_iommu=on is not a valid value (the kernel logs 'AMD-Vi: Unknown option')"),
		    xstrdup("remove amd_iommu=on; the IOMMU is on by default on AMD"));
	else if (s->intel && s->cmd_intel_iommu_off)
		add(c, "cmdline", "kernel command line", ST_ITEM_FAIL, xstrdup("intel_iommu=off is on the command line"),
		    xstrdup("replace it with intel_iommu=on ('sudo acso grub')"));
	else if (s->intel && !s->cmd_intel_iommu_on)
		add(c, "cmdline", "kernel command line", groups ? ST_ITEM_PASS : ST_ITEM_FAIL,
		    xstrdup(groups ? "intel_iommu=on is absent but this kernel turns the IOMMU on by default" : "intel_iommu=on is missing"),
		    groups ? NULL : xstrdup("add intel_iommu=on: 'sudo acso grub', then reboot"));
	else
		add(c, "cmdline", "kernel command line", ST_ITEM_PASS,
		    xasprintf("%s%s", s->intel ? "intel_iommu=on" : "no IOMMU switch needed (AMD)", s->cmd_iommu_pt ? ", iommu=pt" : ""), NULL);

	/* Interrupt remapping */
	if (s->irq_remap == TRI_YES)
		add(c, "irq_remap", "interrupt remapping", ST_ITEM_PASS, xstrdup("enabled"), NULL);
	else
		add(c, "irq_remap", "interrupt remapping", ST_ITEM_WARN,
		    xstrdup(s->irq_remap == TRI_NO ? "disabled" : "no kernel log line says it is enabled"),
		    xstrdup("without it, vfio refuses devices unless vfio_iommu_type1.allow_unsafe_interrupts=1; check the firmware's x2APIC / interrupt remapping setting"));

	/* The ACS override in the running kernel */
	if (s->log_acs_enabled)
		add(c, "acs_override", "ACS override", ST_ITEM_PASS,
		    xasprintf("active: pcie_acs_override=%s and the kernel says 'PCIe ACS overrides enabled'", s->acs_param ? s->acs_param : "?"), NULL);
	else if (s->log_acs_parse_error)
		add(c, "acs_override", "ACS override", ST_ITEM_FAIL, xasprintf("the kernel could not parse pcie_acs_override=%s", s->acs_param ? s->acs_param : ""),
		    xstrdup("fix the value: downstream, multifunction and id:vvvv:dddd (4 hex digits each), comma separated"));
	else if (s->acs_supported == TRI_NO)
		add(c, "acs_override", "ACS override", ST_ITEM_WARN, xstrdup("this kernel does not know pcie_acs_override (reported as unknown)"),
		    xstrdup("build and install an ACS kernel: 'acso run'"));
	else
		add(c, "acs_override", "ACS override", ST_ITEM_PASS,
		    xasprintf("not active (kernel %s; support %s)", s->release ? s->release : "unknown",
			      s->release && strstr(s->release, "acso") ? "likely: an acso kernel" : "unknown: a stock kernel has none"), NULL);

	/* Secure Boot */
	if (s->secure_boot == TRI_YES)
		add(c, "secure_boot", "Secure Boot", ST_ITEM_WARN, xstrdup("on: an unsigned custom kernel will not boot"),
		    xstrdup("turn Secure Boot off in the firmware setup, or sign the kernel and enrol the key with mokutil"));
	else
		add(c, "secure_boot", "Secure Boot", ST_ITEM_PASS,
		    xstrdup(s->secure_boot == TRI_NO ? "off" : "not reported (legacy boot or no efivars)"), NULL);

	/* GPUs */
	if (!groups)
		return;
	if (!r->ngpus) {
		add(c, "gpu", "GPU group", ST_ITEM_FAIL, xstrdup("no GPU (class 0300, 0302 or 0380) found"), NULL);
		return;
	}
	struct buf b = {0};
	enum status st = ST_ITEM_FAIL;
	char *fix = NULL;
	for (size_t i = 0; i < r->ngpus; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		const struct gpu_verdict *g = &r->gpus[i];
		buf_printf(&b, "%s%s %s", b.len ? "; " : "", pci_short_addr(&r->pci.v[g->dev]), verdict_text(g->verdict));
		if (g->verdict == VERDICT_ISOLATED || g->verdict == VERDICT_ISOLATED_BRIDGE)
			st = ST_ITEM_PASS;
		else if (g->verdict == VERDICT_SHARED && g->override && st == ST_ITEM_FAIL) {
			st = ST_ITEM_WARN;
			free(fix);
			fix = xasprintf("an ACS kernel with pcie_acs_override=%s ('acso run')", only < 0 && r->override_all ? r->override_all : g->override);
		}
	}
	if (st == ST_ITEM_PASS) {
		free(fix);
		fix = NULL;
	} else if (!fix)
		fix = xstrdup("no override splits the group: try another PCIe slot or a firmware update ('acso groups' shows why)");
	add(c, "gpu", "GPU group", st, xstrdup(buf_str(&b)), fix);
	buf_free(&b);
}

/* cmd_check passes &gpu: the struct's only field, at offset 0. */
struct check_opts {
	const char *gpu;
};

#define OPTS struct check_opts
const struct acso_option check_options[] = {
	OPT_STRING(0, "gpu", gpu, "ADDR", "the GPU to pass through (default: judge every GPU)"),
	OPT_END,
};

int cmd_check(struct acso_ctx *ctx, int argc, char **argv)
{
	const char *gpu = NULL;
	int first;
	int rc = cmd_options(ctx, argc, argv, &gpu, &first);
	if (rc)
		return rc;
	struct sysinfo s;
	sysinfo_read(ctx->rootfd, !strcmp(ctx->root, "/"), &s);
	struct iommu_report rep;
	bool have_rep = load_iommu_report(ctx, &rep) == 0;
	int only = -1;
	if (gpu && have_rep) {
		only = iommu_find_gpu(&rep, gpu);
		if (only < 0 && rep.ngroups) {
			msg_error("--gpu '%s': no GPU at that address", gpu);
			msg_hint("run 'acso groups' to list the GPUs");
			iommu_report_free(&rep);
			sysinfo_free(&s);
			return EXIT_USAGE;
		}
	}
	struct check c = {0};
	build_items(&c, &s, have_rep ? &rep : NULL, only);

	/* Verdict */
	bool failed = false;
	struct buf by = {0};
	for (size_t i = 0; i < c.n; i++)
		if (c.items[i].status == ST_ITEM_FAIL) {
			failed = true;
			buf_printf(&by, "%s%s", by.len ? ", " : "", c.items[i].title);
		}
	const char *verdict;
	int code;
	const struct item *gi = NULL;
	for (size_t i = 0; i < c.n; i++)
		if (!strcmp(c.items[i].id, "gpu"))
			gi = &c.items[i];
	if (failed) {
		verdict = "blocked", code = EXIT_BLOCKED;
	} else if (gi && gi->status == ST_ITEM_WARN) {
		verdict = "ready_after_override", code = EXIT_NEEDS_OVERRIDE;
	} else {
		verdict = "ready", code = EXIT_OK;
	}

	if (ctx->json) {
		struct json_object *o = json_object_new_object();
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < c.n; i++) {
			struct json_object *x = json_object_new_object();
			json_object_object_add(x, "id", json_object_new_string(c.items[i].id));
			json_object_object_add(x, "title", json_object_new_string(c.items[i].title));
			json_object_object_add(x, "status", json_object_new_string(status_name(c.items[i].status)));
			json_object_object_add(x, "summary", json_object_new_string(c.items[i].summary));
			json_object_object_add(x, "fix", c.items[i].fix ? json_object_new_string(c.items[i].fix) : NULL);
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "items", a);
		json_object_object_add(o, "verdict", json_object_new_string(verdict));
		json_object_object_add(o, "blocked_by", failed ? json_object_new_string(buf_str(&by)) : NULL);
		json_object_object_add(o, "kernel", s.release ? json_object_new_string(s.release) : NULL);
		json_object_object_add(o, "distribution", s.os_pretty ? json_object_new_string(s.os_pretty) : NULL);
		json_object_object_add(o, "kernel_log_source", s.klog_source ? json_object_new_string(s.klog_source) : NULL);
		struct json_object *gp = json_object_new_array();
		for (size_t i = 0; have_rep && rep.ngroups && i < rep.ngpus; i++)
			if (only < 0 || (size_t)only == i)
				json_object_array_add(gp, gpu_json(&rep, &rep.gpus[i]));
		json_object_object_add(o, "gpus", gp);
		json_object_object_add(o, "override", have_rep && rep.override_all ? json_object_new_string(rep.override_all) : NULL);
		out_json(o);
		json_object_put(o);
	} else {
		for (size_t i = 0; i < c.n; i++) {
			const struct item *it = &c.items[i];
			enum style st = it->status == ST_ITEM_PASS ? ST_PASS : it->status == ST_ITEM_WARN ? ST_WARN : ST_FAIL;
			printf("%s%-4s%s  %-20s %s\n", sty(st), status_name(it->status), sty(ST_RESET), it->title, it->summary);
			if (it->fix)
				printf("      %-20s fix: %s\n", "", it->fix);
		}
		if (s.klog.n && ctx->verbose > 0) {
			printf("\nKernel log (%s):\n", s.klog_source);
			for (size_t i = 0; i < s.klog.n; i++)
				printf("  %s\n", s.klog.v[i]);
		}
		putchar('\n');
		if (code == EXIT_OK)
			printf("Verdict: %sready for passthrough%s\n", sty(ST_PASS), sty(ST_RESET));
		else if (code == EXIT_NEEDS_OVERRIDE)
			printf("Verdict: %sready after the ACS override%s (pcie_acs_override=%s; 'acso run' builds the kernel)\n",
			       sty(ST_WARN), sty(ST_RESET), have_rep && rep.override_all ? rep.override_all : "?");
		else
			printf("Verdict: %sblocked%s by: %s\n", sty(ST_FAIL), sty(ST_RESET), buf_str(&by));
	}
	buf_free(&by);
	for (size_t i = 0; i < c.n; i++) {
		free(c.items[i].summary);
		free(c.items[i].fix);
	}
	if (have_rep)
		iommu_report_free(&rep);
	sysinfo_free(&s);
	return code;
}
