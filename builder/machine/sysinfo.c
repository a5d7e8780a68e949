/* sysinfo.c — see sysinfo.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "machine/secureboot.h"
#include "machine/sysinfo.h"
#include "package/mok.h"

#define TEXT_MAX (4 << 20)  /* cpuinfo of a big machine, a long kern.log tail */

static bool has_word(const char *line, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = line; (p = strstr(p, word)); p += n) {
		bool left = p == line || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':';
		bool right = p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n';
		if (left && right)
			return true;
	}
	return false;
}

void sysinfo_parse_cpuinfo(const char *text, struct sysinfo *s)
{
	s->vmx = s->svm = s->lm = s->ncpu = 0;
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (startswith(line, "processor"))
			s->ncpu++;
		else if (startswith(line, "vendor_id")) {
			s->intel |= strstr(line, "GenuineIntel") != NULL;
			s->amd |= strstr(line, "AuthenticAMD") != NULL;
		} else if (startswith(line, "flags")) {
			const char *colon = strchr(line, ':');
			if (!colon)
				continue;
			s->vmx += has_word(colon, "vmx");
			s->svm += has_word(colon, "svm");
			s->lm += has_word(colon, "lm");
			s->hypervisor |= has_word(colon, "hypervisor");
		}
	}
}

void sysinfo_parse_cmdline(const char *cmdline, struct sysinfo *s)
{
	_cleanup_free_ char *copy = xstrdup(cmdline);
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (!strcmp(w, "--"))
			break; /* the rest goes to init */
		if (startswith(w, "intel_iommu=")) {
			/* comma-separated options; the last on/off wins */
			_cleanup_free_ char *v = xstrdup(w + 12);
			char *sv = NULL;
			for (char *o = strtok_r(v, ",", &sv); o; o = strtok_r(NULL, ",", &sv)) {
				if (!strcmp(o, "on"))
					s->cmd_intel_iommu_on = true, s->cmd_intel_iommu_off = false;
				else if (!strcmp(o, "off"))
					s->cmd_intel_iommu_off = true, s->cmd_intel_iommu_on = false;
			}
		} else if (!strcmp(w, "amd_iommu=on")) {
			s->cmd_amd_iommu_on = true;
		} else if (!strcmp(w, "iommu=pt")) {
			s->cmd_iommu_pt = true;
		} else if (startswith(w, "pcie_acs_override=")) {
			free(s->acs_param);
			s->acs_param = xstrdup(w + strlen("pcie_acs_override="));
		}
	}
}

void sysinfo_scan_log_line(const char *line, struct sysinfo *s)
{
	bool keep = false;
	if (strstr(line, "DMAR")) {
		s->log_dmar = keep = true;
		if (strstr(line, "IOMMU enabled"))
			s->log_iommu_enabled = true;
	}
	if (strstr(line, "AMD-Vi")) {
		s->log_amdvi = keep = true;
		if (strstr(line, "Found IOMMU") || strstr(line, "Interrupt remapping enabled"))
			s->log_iommu_enabled = true;
	}
	if (strstr(line, "IOMMU"))
		keep = true;
	if (strstr(line, "Enabled IRQ remapping") || strstr(line, "Interrupt remapping enabled"))
		s->irq_remap = TRI_YES, keep = true;
	else if ((strstr(line, "IRQ remapping") || strstr(line, "Interrupt remapping")) &&
		 (strstr(line, "disabled") || strstr(line, "not enabled")) && s->irq_remap != TRI_YES)
		s->irq_remap = TRI_NO, keep = true;
	/* The exact texts of the override patch; "ACS" alone also matches "ACPI: FACS". */
	if (strstr(line, "PCIe ACS overrides enabled"))
		s->log_acs_enabled = keep = true;
	if (strstr(line, "PCIe ACS ID parse error") || strstr(line, "PCIe ACS invalid ID"))
		s->log_acs_parse_error = keep = true;
	if (strstr(line, "Unknown kernel command line parameters") && strstr(line, "pcie_acs_override"))
		s->log_acs_unknown_param = keep = true;
	if (keep && s->klog.n < 200)
		strv_push(&s->klog, line);
}

char *sysinfo_install_cmd(const char *id, const char *version_id)
{
	if (!id)
		return NULL;
	if (!strcmp(id, "ubuntu") || !strcmp(id, "pop") || !strcmp(id, "linuxmint")) {
		/* libvirt-bin was split into libvirt-daemon-system and libvirt-clients in 18.10. */
		unsigned maj = 0, min = 0;
		if (version_id && sscanf(version_id, "%u.%u", &maj, &min) == 2 && !strcmp(id, "ubuntu") &&
		    (maj < 18 || (maj == 18 && min < 10)))
			return xstrdup("sudo apt-get install qemu-kvm libvirt-bin bridge-utils");
		return xstrdup("sudo apt-get install qemu-kvm libvirt-daemon-system libvirt-clients bridge-utils");
	}
	if (!strcmp(id, "debian") || !strcmp(id, "raspbian"))
		return xstrdup("sudo apt-get install qemu-system-x86 libvirt-daemon-system libvirt-clients bridge-utils");
	if (!strcmp(id, "fedora") || !strcmp(id, "rhel") || !strcmp(id, "centos") || !strcmp(id, "rocky") || !strcmp(id, "almalinux"))
		return xstrdup("sudo dnf install @virtualization");
	if (!strcmp(id, "arch") || !strcmp(id, "manjaro") || !strcmp(id, "endeavouros"))
		return xstrdup("sudo pacman -S qemu-full libvirt");
	if (!strcmp(id, "opensuse-leap") || !strcmp(id, "opensuse-tumbleweed"))
		return xstrdup("sudo zypper install -t pattern kvm_server kvm_tools");
	return NULL;
}

/* os-release: KEY=value or KEY="value". */
static char *osr_get(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, n) || p[n] != '=')
			continue;
		const char *v = p + n + 1;
		size_t len = strcspn(v, "\n");
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0])
			v++, len -= 2;
		return xstrndup(v, len);
	}
	return NULL;
}

static char *read_line(int rootfd, const char *path)
{
	char *s = NULL;
	if (root_read_attr(rootfd, path, &s) < 0)
		return NULL;
	return s;
}

static void scan_text_log(const char *text, struct sysinfo *s)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	size_t n = 0;
	for (char *line = strtok_r(copy, "\n", &save); line && n < KLOG_MAX_LINES * 10; line = strtok_r(NULL, "\n", &save), n++) {
		/* /dev/kmsg records ("6,123,4567,-;text") and dmesg lines alike. */
		char *semi = strchr(line, ';');
		if (semi && line[0] >= '0' && line[0] <= '9' && strspn(line, "0123456789,-c+") == (size_t)(semi - line))
			line = semi + 1;
		sysinfo_scan_log_line(line, s);
	}
}

/* The live kernel log: /dev/kmsg as a device, one record per read,
 * non-blocking so that the end of the buffer ends the loop. */
static bool read_kmsg_device(int rootfd, struct sysinfo *s)
{
	_cleanup_close_ int fd = root_open(rootfd, "/dev/kmsg", O_RDONLY | O_NONBLOCK, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return false;
	char rec[8192];
	for (int n = 0; n < KLOG_MAX_LINES; n++) {
		ssize_t got = read(fd, rec, sizeof(rec) - 1);
		if (got < 0 && errno == EPIPE)
			continue; /* records overwritten while reading */
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		rec[got] = '\0';
		char *semi = strchr(rec, ';');
		char *msg = semi ? semi + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		sysinfo_scan_log_line(msg, s);
	}
	return true;
}

static void read_kernel_log(int rootfd, bool live, struct sysinfo *s)
{
	if (live && read_kmsg_device(rootfd, s)) {
		s->klog_source = xstrdup("/dev/kmsg");
		return;
	}
	/* Replayed roots: a captured log as a plain file; then the logs on disk. */
	static const char *const files[] = {"/var/log/dmesg", "/dev/kmsg", "/var/log/kern.log"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_close_ int fd = root_open(rootfd, files[i], O_RDONLY | O_NONBLOCK, 0);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* kern.log can be large: keep its tail. */
		if (st.st_size > TEXT_MAX && lseek(fd, st.st_size - TEXT_MAX, SEEK_SET) < 0)
			continue;
		_cleanup_free_ char *text = NULL;
		if (read_fd_bounded(fd, TEXT_MAX, &text, NULL) < 0)
			continue;
		scan_text_log(text, s);
		s->klog_source = xstrdup(files[i]);
		return;
	}
}

static int count_dir(int rootfd, const char *path)
{
	DIR *d = root_opendir(rootfd, path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* An IOMMU described by the firmware: Intel's DMAR or AMD's IVRS ACPI
 * table. In a virtual machine without them the IOMMU must come from the
 * host (a virtual IOMMU), not from a firmware switch. */
static enum tri acpi_iommu_table(int rootfd)
{
	if (root_exists(rootfd, "/sys/firmware/acpi/tables") != 0)
		return TRI_UNKNOWN;
	return root_exists(rootfd, "/sys/firmware/acpi/tables/DMAR") == 0 ||
	       root_exists(rootfd, "/sys/firmware/acpi/tables/IVRS") == 0 ? TRI_YES : TRI_NO;
}

/* The libvirt daemon and whether systemd starts it: the classic libvirtd
 * or the modular virtqemud (Fedora, libvirt 9+), its service or socket
 * linked into a .wants/ directory of /etc/systemd/system. */
static void libvirt_state(int rootfd, struct sysinfo *s)
{
	static const char *const daemons[] = {"/usr/sbin/libvirtd", "/usr/sbin/virtqemud"};
	static const char *const units[] = {
		"multi-user.target.wants/libvirtd.service", "sockets.target.wants/libvirtd.socket",
		"multi-user.target.wants/virtqemud.service", "sockets.target.wants/virtqemud.socket",
	};
	bool daemon = false, enabled = false;
	for (size_t i = 0; i < ARRAY_SIZE(daemons); i++)
		daemon |= root_exists(rootfd, daemons[i]) == 0;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		_cleanup_free_ char *p = xasprintf("/etc/systemd/system/%s", units[i]);
		enabled |= root_exists(rootfd, p) == 0;
	}
	s->libvirt_installed = daemon ? TRI_YES : TRI_NO;
	s->libvirt_enabled = enabled ? TRI_YES : TRI_NO;
	s->virsh_only = !daemon && root_exists(rootfd, "/usr/bin/virsh") == 0;
}

const char *sysinfo_proxmox(int rootfd, const char *release)
{
	/* Proxmox VE keeps Debian's os-release: its own files tell. */
	if (root_exists(rootfd, "/etc/pve") == 0)
		return "/etc/pve";
	if (root_exists(rootfd, "/var/lib/dpkg/info/pve-manager.list") == 0 ||
	    root_exists(rootfd, "/usr/bin/pveversion") == 0)
		return "pve-manager";
	if (release && strstr(release, "-pve"))
		return "a -pve kernel";
	return NULL;
}

/* The MOK acso would sign with, and (live) whether it is enrolled. */
static void read_mok(int rootfd, bool live, struct sysinfo *s)
{
	struct mok m;
	if (mok_find(rootfd, &m, NULL) < 0)
		return;
	s->mok_enrolled = mok_enrol_word(live ? mok_enrol_state(&m) : MOK_ENROL_UNKNOWN);
	s->mok_origin = m.origin;
	s->mok_cert = m.cert;
	m.cert = NULL;
	mok_free(&m);
}

/* The PCI device whose boot_vga attribute is 1. */
static char *boot_vga_device(int rootfd)
{
	DIR *d = root_opendir(rootfd, "/sys/bus/pci/devices");
	if (!d)
		return NULL;
	char *found = NULL;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/bus/pci/devices/%s/boot_vga", de->d_name);
		_cleanup_free_ char *v = NULL;
		if (root_read_attr(rootfd, p, &v) == 0 && !strcmp(v, "1"))
			found = xstrdup(de->d_name);
	}
	closedir(d);
	return found;
}

/* A laptop's built-in panel: a DRM connector "cardN-eDP-M" or
 * "cardN-LVDS-M"; its card's device link names the PCI device. */
static void panel_device(int rootfd, struct sysinfo *s)
{
	DIR *d = root_opendir(rootfd, "/sys/class/drm");
	if (!d)
		return;
	struct dirent *de;
	while (!s->panel && (de = readdir(d))) {
		const char *dash = strchr(de->d_name, '-');
		if (!startswith(de->d_name, "card") || !dash ||
		    (!startswith(dash + 1, "eDP-") && !startswith(dash + 1, "LVDS-")))
			continue;
		_cleanup_free_ char *card = xstrndup(de->d_name, (size_t)(dash - de->d_name));
		_cleanup_free_ char *p = xasprintf("/sys/class/drm/%s/device", card);
		_cleanup_free_ char *target = NULL;
		if (root_readlink(rootfd, p, &target) < 0)
			continue;
		const char *base = strrchr(target, '/');
		s->panel = xstrdup(base ? base + 1 : target);
		s->panel_connector = xstrdup(de->d_name);
	}
	closedir(d);
}

static char *invoking_user(void)
{
	const char *u = getenv("SUDO_USER");
	if (!u || !*u)
		u = getenv("USER");
	if (u && *u)
		return xstrdup(u);
	struct passwd *pw = getpwuid(getuid());
	return pw ? xstrdup(pw->pw_name) : NULL;
}

static enum tri in_group(const char *groupfile, const char *group, const char *user)
{
	if (!groupfile || !user)
		return TRI_UNKNOWN;
	size_t gl = strlen(group);
	for (const char *p = groupfile; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, group, gl) || p[gl] != ':')
			continue;
		/* name:x:gid:user1,user2 */
		const char *members = p;
		for (int i = 0; i < 3 && members; i++)
			members = strchr(members, ':') ? strchr(members, ':') + 1 : NULL;
		if (!members)
			return TRI_NO;
		_cleanup_free_ char *list = xstrndup(members, strcspn(members, "\n"));
		char *save = NULL;
		for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
			if (!strcmp(m, user))
				return TRI_YES;
		return TRI_NO;
	}
	return TRI_NO; /* no such group */
}

void sysinfo_read(int rootfd, bool live, struct sysinfo *s)
{
	memset(s, 0, sizeof(*s));
	s->vmx = s->svm = s->lm = s->ncpu = -1;
	s->irq_remap = TRI_UNKNOWN;
	s->acs_supported = TRI_UNKNOWN;

	_cleanup_free_ char *cpu = NULL;
	if (root_read_file(rootfd, "/proc/cpuinfo", TEXT_MAX, &cpu, NULL) == 0)
		sysinfo_parse_cpuinfo(cpu, s);

	s->dev_kvm = root_exists(rootfd, "/dev/kvm") == 0 ? TRI_YES : TRI_NO;
	_cleanup_free_ char *mods = NULL;
	if (root_read_file(rootfd, "/proc/modules", TEXT_MAX, &mods, NULL) == 0) {
		bool kvm = strstr(mods, "kvm ") == mods || strstr(mods, "\nkvm ");
		bool arch = strstr(mods, "kvm_intel ") || strstr(mods, "kvm_amd ");
		s->kvm_loaded = kvm && arch ? TRI_YES : TRI_NO;
	} else {
		s->kvm_loaded = TRI_UNKNOWN;
	}

	libvirt_state(rootfd, s);
	s->user = invoking_user();
	_cleanup_free_ char *grp = NULL;
	if (root_read_file(rootfd, "/etc/group", TEXT_MAX, &grp, NULL) == 0)
		s->user_in_libvirt = in_group(grp, "libvirt", s->user);
	else
		s->user_in_libvirt = TRI_UNKNOWN;

	_cleanup_free_ char *osr = NULL;
	if (root_read_file(rootfd, "/etc/os-release", 65536, &osr, NULL) == 0 ||
	    root_read_file(rootfd, "/usr/lib/os-release", 65536, &osr, NULL) == 0) {
		s->os_id = osr_get(osr, "ID");
		s->os_version_id = osr_get(osr, "VERSION_ID");
		s->os_pretty = osr_get(osr, "PRETTY_NAME");
		s->install_cmd = sysinfo_install_cmd(s->os_id, s->os_version_id);
	}

	s->release = read_line(rootfd, "/proc/sys/kernel/osrelease");
	s->version = read_line(rootfd, "/proc/version");
	s->version_signature = read_line(rootfd, "/proc/version_signature");
	s->proxmox_evidence = sysinfo_proxmox(rootfd, s->release);
	s->proxmox = s->proxmox_evidence != NULL;
	s->cmdline = read_line(rootfd, "/proc/cmdline");
	if (s->cmdline)
		sysinfo_parse_cmdline(s->cmdline, s);

	read_kernel_log(rootfd, live, s);
	s->iommu_units = count_dir(rootfd, "/sys/class/iommu");
	s->acpi_iommu_table = acpi_iommu_table(rootfd);

	/* Support for the parameter: the patch's own boot lines, its symbols
	 * (kallsyms, System.map), a stock kernel's "unknown parameter". */
	acs_support_detect(rootfd, s->release, s->log_acs_enabled || s->log_acs_parse_error,
			   s->log_acs_unknown_param, &s->acs);
	s->acs_supported = s->acs.supported;
	/* sb_read takes a missing /sys/firmware/efi for a legacy BIOS boot;
	 * a root without /sys/firmware at all (a partial capture) tells nothing. */
	struct sb_state sb;
	sb_read(rootfd, live, &sb);
	s->secure_boot = root_exists(rootfd, "/sys/firmware") == 0 ? sb.secure_boot : TRI_UNKNOWN;
	if (s->secure_boot == TRI_YES)
		read_mok(rootfd, live, s);
	s->boot_vga = boot_vga_device(rootfd);
	s->no_vt = !sysinfo_has_vt(rootfd);
	panel_device(rootfd, s);
}

bool sysinfo_has_vt(int rootfd)
{
	return root_exists(rootfd, "/sys/class/tty") < 0 || root_exists(rootfd, "/sys/class/tty/tty0") == 0;
}

void sysinfo_free(struct sysinfo *s)
{
	free(s->user);
	free(s->os_id);
	free(s->os_version_id);
	free(s->os_pretty);
	free(s->install_cmd);
	free(s->release);
	free(s->version);
	free(s->version_signature);
	free(s->cmdline);
	free(s->acs_param);
	free(s->klog_source);
	strv_free(&s->klog);
	free(s->boot_vga);
	free(s->panel);
	free(s->panel_connector);
	free(s->mok_cert);
	memset(s, 0, sizeof(*s));
}
