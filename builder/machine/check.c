/* check.c — see check.h. The sentences are the report's: the command
 * prints them as they are. */
#include <string.h>

#include "base/util.h"
#include "machine/check.h"

static void add(struct check_list *c, const char *id, const char *title, enum check_status st, char *summary, char *fix)
{
	if (c->n >= CHECK_MAX_ITEMS) {
		free(summary);
		free(fix);
		return;
	}
	c->items[c->n++] = (struct check_item){id, title, st, summary, fix};
}

static char *iommu_fix(const struct sysinfo *s)
{
	/* A guest's IOMMU is the host's to give: no firmware switch inside it. */
	if (s->hypervisor && s->acpi_iommu_table != TRI_YES)
		return xstrdup("this is a virtual machine without a virtual IOMMU (no DMAR or IVRS ACPI table): the IOMMU must come from the host; "
			       "give the guest one (QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on; "
			       "libvirt: <iommu model='intel'/>) and pass the GPU through to it from the host");
	const char *grub = "'sudo acso grub' adds it to GRUB (or add it to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub and run 'sudo update-grub'), then reboot";
	if (s->amd && !s->intel)
		return xstrdup("turn on the IOMMU (AMD-Vi, often called 'IOMMU' or 'SVM/IOMMU') in the firmware setup; "
			       "the kernel enables it by itself on AMD: do not add amd_iommu=on, it is not a valid value");
	if (s->intel)
		return xasprintf("turn on VT-d in the firmware setup and put intel_iommu=on on the kernel command line: %s", grub);
	return xasprintf("turn on VT-d (Intel) or AMD-Vi (AMD) in the firmware setup; on Intel also put intel_iommu=on on the kernel command line: %s", grub);
}

/* CPU */
static void items_cpu(struct check_list *c, const struct sysinfo *s)
{
	int virt = s->vmx > 0 ? s->vmx : s->svm > 0 ? s->svm : 0;
	if (s->ncpu < 0)
		add(c, "cpu_virt", "CPU virtualization", CHECK_FAIL, xstrdup("/proc/cpuinfo could not be read"), NULL);
	else if (virt > 0)
		add(c, "cpu_virt", "CPU virtualization", CHECK_PASS,
		    xasprintf("%d of %d CPUs have %s", virt, s->ncpu, s->vmx > 0 ? "vmx (VT-x)" : "svm (AMD-V)"), NULL);
	else
		add(c, "cpu_virt", "CPU virtualization", CHECK_FAIL, xstrdup("no CPU shows vmx or svm"),
		    xstrdup("turn on VT-x (Intel) or SVM / AMD-V (AMD) in the firmware setup; inside a virtual machine, turn on nested virtualization on the host"));
	if (s->ncpu >= 0)
		add(c, "long_mode", "64-bit (lm)", s->lm > 0 ? CHECK_PASS : CHECK_FAIL,
		    s->lm > 0 ? xasprintf("%d CPUs support long mode", s->lm) : xstrdup("no CPU shows the lm flag"),
		    s->lm > 0 ? NULL : xstrdup("a 64-bit CPU and kernel are needed to give a guest more than 2 GiB"));
}

/* KVM */
static void items_kvm(struct check_list *c, const struct sysinfo *s)
{
	if (s->dev_kvm == TRI_YES && s->kvm_loaded == TRI_YES)
		add(c, "kvm", "KVM", CHECK_PASS, xstrdup("/dev/kvm exists and the KVM modules are loaded"), NULL);
	else if (s->dev_kvm == TRI_YES && s->kvm_loaded == TRI_UNKNOWN)
		add(c, "kvm", "KVM", CHECK_PASS, xstrdup("/dev/kvm exists (no /proc/modules: KVM is built in)"), NULL);
	else if (s->dev_kvm == TRI_YES)
		add(c, "kvm", "KVM", CHECK_WARN, xstrdup("/dev/kvm exists but kvm_intel/kvm_amd is not in /proc/modules (built in?)"), NULL);
	else
		add(c, "kvm", "KVM", CHECK_FAIL, xstrdup("/dev/kvm does not exist"),
		    xasprintf("sudo modprobe %s (after turning on virtualization in the firmware setup)",
			      s->amd && !s->intel ? "kvm_amd" : s->intel ? "kvm_intel" : "kvm_intel (or kvm_amd)"));
}

/* libvirt, or Proxmox VE's own qm */
static void items_libvirt(struct check_list *c, const struct sysinfo *s)
{
	const char *inst = s->install_cmd ? s->install_cmd : "install qemu and libvirt with the distribution's package manager";
	if (s->proxmox) {
		/* Proxmox VE manages its guests itself: libvirt is not used there. */
		add(c, "qm", "Proxmox VE", CHECK_PASS,
		    xasprintf("Proxmox VE (%s): guests get the GPU through qm, libvirt is not needed", s->proxmox_evidence), NULL);
		return;
	}
	if (s->libvirt_installed == TRI_YES && s->libvirt_enabled == TRI_YES)
		add(c, "libvirt", "libvirt", CHECK_PASS, xstrdup("libvirt is installed and its daemon is enabled"), NULL);
	else if (s->libvirt_installed == TRI_YES)
		add(c, "libvirt", "libvirt", CHECK_WARN, xstrdup("libvirt is installed but its daemon is not enabled"),
		    xstrdup("sudo systemctl enable --now libvirtd (virtqemud.socket with the modular daemons)"));
	else if (s->virsh_only)
		add(c, "libvirt", "libvirt", CHECK_WARN, xstrdup("only virsh (the client) is installed: no libvirt daemon"), xstrdup(inst));
	else
		add(c, "libvirt", "libvirt", CHECK_WARN, xasprintf("libvirt is not installed%s%s", s->os_pretty ? " on " : "", s->os_pretty ? s->os_pretty : ""),
		    xstrdup(inst));
	if (s->user && !strcmp(s->user, "root"))
		add(c, "libvirt_group", "libvirt group", CHECK_INFO, xstrdup("not checked: running as root (run acso through sudo to check your own user)"), NULL);
	else if (s->user_in_libvirt == TRI_YES)
		add(c, "libvirt_group", "libvirt group", CHECK_PASS, xasprintf("user '%s' is in group libvirt", s->user), NULL);
	else
		add(c, "libvirt_group", "libvirt group", CHECK_WARN,
		    xasprintf("user '%s' is %s group libvirt", s->user ? s->user : "unknown",
			      s->user_in_libvirt == TRI_NO ? "not in" : "perhaps not in (cannot read /etc/group)"),
		    xasprintf("sudo adduser %s libvirt, then log out and back in", s->user ? s->user : "$USER"));
}

/* IOMMU */
static void items_iommu(struct check_list *c, const struct sysinfo *s, const struct iommu_report *r, bool groups)
{
	if (groups)
		add(c, "iommu", "IOMMU", CHECK_PASS,
		    xasprintf("%zu IOMMU groups%s%s", r->ngroups, s->log_dmar ? "; DMAR in the kernel log" : s->log_amdvi ? "; AMD-Vi in the kernel log" : "",
			      s->iommu_units > 0 ? "; /sys/class/iommu populated" : ""), NULL);
	else
		add(c, "iommu", "IOMMU", CHECK_FAIL,
		    xasprintf("the IOMMU is off: no IOMMU groups%s%s; %s%s%s",
			      s->hypervisor && s->acpi_iommu_table != TRI_YES ? " in this virtual machine" : "",
			      s->iommu_units > 0 ? "" : ", /sys/class/iommu is empty",
			      s->log_dmar || s->log_amdvi ? "DMAR/AMD-Vi lines but no group in the kernel log" : "no DMAR or AMD-Vi line in the kernel log",
			      s->klog_source ? " " : " (none could be read)", s->klog_source ? s->klog_source : ""),
		    iommu_fix(s));
}

/* Command line */
static void items_cmdline(struct check_list *c, const struct sysinfo *s, bool groups)
{
	if (!s->cmdline)
		add(c, "cmdline", "kernel command line", CHECK_WARN, xstrdup("/proc/cmdline could not be read"), NULL);
	else if (s->cmd_amd_iommu_on)
		add(c, "cmdline", "kernel command line", CHECK_WARN, xstrdup("amd_iommu=on is not a valid value (the kernel logs 'AMD-Vi: Unknown option')"),
		    xstrdup("remove amd_iommu=on; the IOMMU is on by default on AMD"));
	else if (s->intel && s->cmd_intel_iommu_off)
		add(c, "cmdline", "kernel command line", CHECK_FAIL, xstrdup("intel_iommu=off is on the command line"),
		    xstrdup("replace it with intel_iommu=on ('sudo acso grub')"));
	else if (s->intel && !s->cmd_intel_iommu_on)
		add(c, "cmdline", "kernel command line", groups ? CHECK_PASS : CHECK_FAIL,
		    xstrdup(groups ? "intel_iommu=on is absent but this kernel turns the IOMMU on by default" : "intel_iommu=on is missing"),
		    groups ? NULL : xstrdup("add intel_iommu=on: 'sudo acso grub', then reboot"));
	else
		add(c, "cmdline", "kernel command line", CHECK_PASS,
		    xasprintf("%s%s", s->intel ? "intel_iommu=on" : "no IOMMU switch needed (AMD)", s->cmd_iommu_pt ? ", iommu=pt" : ""), NULL);
}

/* Interrupt remapping */
static void items_irq_remap(struct check_list *c, const struct sysinfo *s)
{
	if (s->irq_remap == TRI_YES)
		add(c, "irq_remap", "interrupt remapping", CHECK_PASS, xstrdup("enabled"), NULL);
	else if (!s->klog_source)
		add(c, "irq_remap", "interrupt remapping", CHECK_INFO, xstrdup("not checked: no kernel log could be read"), NULL);
	else
		add(c, "irq_remap", "interrupt remapping", CHECK_WARN,
		    xstrdup(s->irq_remap == TRI_NO ? "disabled" : "no kernel log line says it is enabled"),
		    xstrdup("without it, vfio refuses devices unless vfio_iommu_type1.allow_unsafe_interrupts=1; check the firmware's x2APIC / interrupt remapping setting"));
}

/* The ACS override in the running kernel: active, or supported (from which
 * evidence), or not; unknown is information, not a pass. */
static void items_acs_override(struct check_list *c, const struct sysinfo *s)
{
	const struct acs_support *a = &s->acs;
	const char *rel = s->release ? s->release : "unknown";
	if (s->log_acs_enabled)
		add(c, "acs_override", "ACS override", CHECK_PASS,
		    xasprintf("active: pcie_acs_override=%s and the kernel says 'PCIe ACS overrides enabled'", s->acs_param ? s->acs_param : "?"), NULL);
	else if (s->log_acs_parse_error)
		add(c, "acs_override", "ACS override", CHECK_FAIL, xasprintf("the kernel could not parse pcie_acs_override=%s", s->acs_param ? s->acs_param : ""),
		    xstrdup("fix the value: downstream, multifunction and id:vvvv:dddd (4 hex digits each), comma separated"));
	else if (s->acs_supported == TRI_YES)
		add(c, "acs_override", "ACS override", CHECK_PASS,
		    xasprintf("supported, not active: kernel %s carries it (%s in %s)", rel, a->symbol[0] ? a->symbol : "its boot line", a->source), NULL);
	else if (s->acs_supported == TRI_NO && a->evidence == ACS_EV_UNKNOWN_PARAM)
		add(c, "acs_override", "ACS override", CHECK_WARN, xstrdup("this kernel does not know pcie_acs_override (reported as unknown)"),
		    xstrdup("build and install an ACS kernel: 'acso run'"));
	else if (s->acs_supported == TRI_NO)
		add(c, "acs_override", "ACS override", CHECK_WARN,
		    xasprintf("kernel %s does not carry it (no pcie_acs_override symbols in %s)", rel, a->source),
		    xstrdup("build and install an ACS kernel: 'acso run'"));
	else
		add(c, "acs_override", "ACS override", CHECK_INFO,
		    xasprintf("not active (kernel %s; support unknown: %s%s%s)", rel,
			      a->note[0] ? a->note : "no symbol list or boot line told",
			      a->flavour[0] ? "; its flavour suggests it: " : "", a->flavour), NULL);
}

/* Secure Boot: what acso install will do, with which key, and whether
 * that key must be enrolled first (never "turn it off"). */
static void items_secure_boot(struct check_list *c, const struct sysinfo *s)
{
	static const char enrol[] = "'sudo acso sign RELEASE' runs mokutil --import and says what MokManager asks";
	if (s->secure_boot == TRI_NO) {
		add(c, "secure_boot", "Secure Boot", CHECK_PASS, xstrdup("off"), NULL);
		return;
	}
	if (s->secure_boot != TRI_YES) {
		add(c, "secure_boot", "Secure Boot", CHECK_INFO, xstrdup("not checked: no efivars and no mokutil answer"), NULL);
		return;
	}
	if (!s->mok_cert) {
		add(c, "secure_boot", "Secure Boot", CHECK_WARN,
		    xstrdup("on: no MOK yet; acso install makes one where DKMS looks and signs the new kernel with it"),
		    xasprintf("keep it on; the new MOK must be enrolled once before the reboot: %s", enrol));
		return;
	}
	const char *whose = !strcmp(s->mok_origin, "ubuntu") ? "Ubuntu's shim-signed MOK" : "Debian's DKMS MOK";
	const char *st = s->mok_enrolled ? s->mok_enrolled : "unknown";
	if (!strcmp(st, "enrolled"))
		add(c, "secure_boot", "Secure Boot", CHECK_PASS,
		    xasprintf("on: acso install signs the new kernel with %s (%s), enrolled", s->mok_cert, whose), NULL);
	else if (!strcmp(st, "pending"))
		add(c, "secure_boot", "Secure Boot", CHECK_WARN,
		    xasprintf("on: acso install signs the new kernel with %s (%s), which waits for MokManager at the next boot",
			      s->mok_cert, whose),
		    xstrdup("reboot once and enrol it in MokManager (the blue screen) before booting the new kernel"));
	else if (!strcmp(st, "blocked"))
		add(c, "secure_boot", "Secure Boot", CHECK_WARN,
		    xasprintf("on: the MOK %s (%s) is blocked (dbx or MokListX): a kernel signed with it will not boot",
			      s->mok_cert, whose),
		    xstrdup("move the key pair away so acso makes a new one, then enrol that"));
	else if (!strcmp(st, "not enrolled"))
		add(c, "secure_boot", "Secure Boot", CHECK_WARN,
		    xasprintf("on: acso install signs the new kernel with %s (%s), which is not enrolled", s->mok_cert, whose),
		    xasprintf("enrol it first: %s", enrol));
	else
		add(c, "secure_boot", "Secure Boot", CHECK_WARN,
		    xasprintf("on: acso install signs the new kernel with %s (%s); not known here whether it is enrolled",
			      s->mok_cert, whose),
		    xasprintf("'mokutil --test-key %s' tells; if it is not enrolled: %s", s->mok_cert, enrol));
}

/* GPUs: the verdicts of every GPU (only -1) or the one */
static void items_gpu(struct check_list *c, const struct iommu_report *r, int only)
{
	if (!r->ngpus) {
		add(c, "gpu", "GPU group", CHECK_FAIL, xstrdup("no GPU (class 0300, 0302 or 0380) found"), NULL);
		return;
	}
	struct buf b = {0};
	enum check_status st = CHECK_FAIL;
	char *fix = NULL;
	for (size_t i = 0; i < r->ngpus; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		const struct gpu_verdict *g = &r->gpus[i];
		buf_printf(&b, "%s%s %s", b.len ? "; " : "", pci_short_addr(&r->pci.v[g->dev]), verdict_text(g->verdict));
		if (g->verdict == VERDICT_ISOLATED || g->verdict == VERDICT_ISOLATED_BRIDGE)
			st = CHECK_PASS;
		else if (g->verdict == VERDICT_SHARED && g->override && st == CHECK_FAIL) {
			st = CHECK_WARN;
			free(fix);
			fix = xasprintf("an ACS kernel with pcie_acs_override=%s ('acso run')", only < 0 && r->override_all ? r->override_all : g->override);
		}
	}
	if (st == CHECK_PASS) {
		free(fix);
		fix = NULL;
	} else if (!fix)
		fix = xstrdup("no override splits the group: try another PCIe slot or a firmware update ('acso groups' shows why)");
	add(c, "gpu", "GPU group", st, xstrdup(buf_str(&b)), fix);
	buf_free(&b);
}

/* A judged GPU the host shows its screen on: passing it leaves the host
 * without one (boot console through boot_vga, a laptop's panel). A boot VGA
 * under a kernel without virtual terminals shows no console (acso vfio's
 * rule, vfio/bind.c). */
static void items_gpu_display(struct check_list *c, const struct sysinfo *s, const struct iommu_report *r, int only)
{
	struct buf b = {0};
	for (size_t i = 0; i < r->ngpus; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		const struct pcidev *d = &r->pci.v[r->gpus[i].dev];
		if (s->boot_vga && !strcmp(s->boot_vga, d->addr) && !s->no_vt)
			buf_printf(&b, "%s%s drives the boot console (boot_vga)", b.len ? "; " : "", pci_short_addr(d));
		if (s->panel && !strcmp(s->panel, d->addr))
			buf_printf(&b, "%s%s drives the laptop's panel (%s)", b.len ? "; " : "", pci_short_addr(d), s->panel_connector);
	}
	if (b.len)
		add(c, "gpu_display", "host display", CHECK_WARN, xasprintf("%s: passing it leaves the host without a screen", buf_str(&b)),
		    xstrdup("pass another GPU, or keep a second GPU (or the integrated one) for the host and make it the primary display in the firmware setup"));
	buf_free(&b);
}

void check_items(struct check_list *c, const struct sysinfo *s, const struct iommu_report *r, int only_gpu)
{
	bool groups = r && r->ngroups > 0;
	c->n = 0;
	items_cpu(c, s);
	items_kvm(c, s);
	items_libvirt(c, s);
	items_iommu(c, s, r, groups);
	items_cmdline(c, s, groups);
	items_irq_remap(c, s);
	items_acs_override(c, s);
	items_secure_boot(c, s);
	if (groups) {
		items_gpu(c, r, only_gpu);
		items_gpu_display(c, s, r, only_gpu);
	}
}

void check_list_free(struct check_list *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].summary);
		free(c->items[i].fix);
	}
	c->n = 0;
}

enum check_verdict check_verdict(const struct check_list *c, char **blocked_by)
{
	struct buf by = {0};
	const struct check_item *gpu = NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (c->items[i].status == CHECK_FAIL)
			buf_printf(&by, "%s%s", by.len ? ", " : "", c->items[i].title);
		if (!strcmp(c->items[i].id, "gpu"))
			gpu = &c->items[i];
	}
	*blocked_by = NULL;
	if (by.len) {
		*blocked_by = xstrdup(buf_str(&by));
		buf_free(&by);
		return CHECK_BLOCKED;
	}
	buf_free(&by);
	return gpu && gpu->status == CHECK_WARN ? CHECK_READY_AFTER_OVERRIDE : CHECK_READY;
}

char *check_next_step(const struct sysinfo *s, enum check_verdict v, const char *override)
{
	if (v == CHECK_BLOCKED)
		return NULL;
	if (v == CHECK_READY)
		return xstrdup(s->proxmox ? "give a guest the GPU with 'qm set VMID -hostpci0 ADDR' (Proxmox VE)"
					  : "give a guest the GPU (virt-manager, or virsh attach-device)");
	const char *val = override ? override : "?";
	if (s->acs_supported == TRI_YES)
		return xasprintf("pcie_acs_override=%s; this kernel carries the override: 'sudo acso grub --acs auto' registers the parameter "
				 "('acso run' does only that), then reboot", val);
	if (s->secure_boot == TRI_YES)
		return xasprintf("pcie_acs_override=%s; 'acso run' builds the kernel and signs it for Secure Boot; "
				 "the Secure Boot line says with which key and whether to enrol it first", val);
	return xasprintf("pcie_acs_override=%s; 'acso run' builds the kernel", val);
}

const char *check_status_name(enum check_status s)
{
	return s == CHECK_PASS ? "pass" : s == CHECK_WARN ? "warn" : s == CHECK_INFO ? "info" : "fail";
}

const char *check_verdict_name(enum check_verdict v)
{
	return v == CHECK_READY ? "ready" : v == CHECK_READY_AFTER_OVERRIDE ? "ready_after_override" : "blocked";
}
