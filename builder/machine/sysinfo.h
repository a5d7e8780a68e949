/* sysinfo.h — what `acso check` and `acso verify` read about the machine,
 * all through the root: CPU flags, KVM, libvirt, the distribution, the
 * kernel's release and command line, kernel log lines about the IOMMU and
 * the ACS override, /sys/class/iommu and the Secure Boot state. */
#pragma once
#include <stdbool.h>

#include "machine/acssupport.h"
#include "machine/pci.h"   /* enum tri */
#include "base/util.h"

#define KLOG_MAX_LINES 20000

struct sysinfo {
	/* /proc/cpuinfo: processors with the flag; -1 when unreadable. */
	int vmx, svm, lm, ncpu;
	bool intel, amd;             /* vendor_id */
	bool hypervisor;             /* the "hypervisor" flag: a virtual machine */
	/* /sys/firmware/acpi/tables: a DMAR (Intel) or IVRS (AMD) table, the
	 * firmware's description of an IOMMU; TRI_UNKNOWN: no tables readable */
	enum tri acpi_iommu_table;
	/* KVM */
	enum tri dev_kvm;
	enum tri kvm_loaded;         /* kvm plus kvm_intel or kvm_amd in /proc/modules */
	/* libvirt */
	enum tri libvirt_installed;  /* the daemon: libvirtd or virtqemud */
	enum tri libvirt_enabled;    /* its systemd unit enabled (a .wants/ link) */
	bool virsh_only;             /* virsh without a daemon: a client only */
	char *user;                  /* the invoking user ($SUDO_USER, $USER, uid) */
	enum tri user_in_libvirt;
	/* /etc/os-release */
	char *os_id, *os_version_id, *os_pretty;
	char *install_cmd;           /* exact command for this distribution */
	/* Proxmox VE: /etc/pve, pve-manager installed or a -pve kernel; what
	 * told (for the report) */
	bool proxmox;
	const char *proxmox_evidence;
	/* kernel */
	char *release;               /* /proc/sys/kernel/osrelease */
	char *version;               /* /proc/version */
	char *version_signature;     /* /proc/version_signature (Ubuntu) */
	char *cmdline;               /* NULL when /proc/cmdline is absent */
	char *acs_param;             /* value of pcie_acs_override= on the command line */
	bool cmd_intel_iommu_on, cmd_intel_iommu_off, cmd_amd_iommu_on, cmd_iommu_pt;
	/* kernel log */
	char *klog_source;           /* "/dev/kmsg", "/var/log/dmesg", ... NULL: none readable */
	struct strv klog;            /* relevant lines only */
	bool log_dmar, log_amdvi, log_iommu_enabled;
	enum tri irq_remap;
	bool log_acs_enabled;        /* "PCIe ACS overrides enabled" */
	bool log_acs_parse_error;    /* "PCIe ACS ID parse error" / "PCIe ACS invalid ID" */
	bool log_acs_unknown_param;  /* reported among unknown parameters: stock kernel */
	int iommu_units;             /* entries in /sys/class/iommu; -1 unreadable */
	enum tri acs_supported;      /* the running kernel knows pcie_acs_override */
	struct acs_support acs;      /* ... and from which evidence (acs_support_detect) */
	enum tri secure_boot;        /* sb_read's verdict */
	/* Display devices the host uses: the PCI address ("0000:01:00.0") of
	 * the device whose boot_vga is 1 (the boot console), and of the one
	 * driving a laptop panel (an eDP or LVDS connector in /sys/class/drm);
	 * NULL when none. */
	char *boot_vga;
	char *panel;
	char *panel_connector;       /* "card0-eDP-1" */
	bool no_vt;                  /* !sysinfo_has_vt: no console on any display */
	/* Secure Boot on: the MOK acso install would sign with (mok_find's
	 * certificate, NULL when there is none yet), where it comes from
	 * ("ubuntu", "dkms") and whether the firmware trusts it
	 * (mok_enrol_word: asked of mokutil on the running system only). */
	char *mok_cert;
	const char *mok_origin;
	const char *mok_enrolled;
};

/* Can a console be on a display at all? A kernel without virtual terminals
 * shows no text console and no login on any screen (its console is a serial
 * port): /sys/class/tty is there and tty0 is not. Unknown (no sysfs) counts
 * as a VT, as on every distribution kernel. */
bool sysinfo_has_vt(int rootfd);

/* Read everything; never fails (what cannot be read stays unknown).
 * live: the root is the running system (read /dev/kmsg as a device). */
void sysinfo_read(int rootfd, bool live, struct sysinfo *s);
void sysinfo_free(struct sysinfo *s);

/* Core helpers, exposed for the unit tests. */
void sysinfo_parse_cpuinfo(const char *text, struct sysinfo *s);
/* Proxmox VE below rootfd, from /etc/pve, pve-manager's dpkg files, the
 * release (-pve) or os-release; the evidence's name, or NULL. */
const char *sysinfo_proxmox(int rootfd, const char *release);
void sysinfo_parse_cmdline(const char *cmdline, struct sysinfo *s);
void sysinfo_scan_log_line(const char *line, struct sysinfo *s);
/* The KVM/libvirt install command for ID / VERSION_ID of os-release. */
char *sysinfo_install_cmd(const char *id, const char *version_id);
