/* snapshot.c — see snapshot.h. The archive mirrors the root's layout
 * (sys/..., proc/..., etc/...), with the sysfs symlinks kept as the
 * relative links the kernel shows, so that the tree replays with --root. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "machine/acssupport.h"
#include "machine/pci.h"
#include "machine/pcinames.h"
#include "machine/snapshot.h"
#include "base/decompress.h"
#include "base/util.h"

struct snap {
	int rootfd;
	struct archive *a;
	struct buf out;
	struct strv seen;       /* paths already stored */
	struct snapshot_stats *st;
	time_t now;
};

static la_ssize_t mem_write(struct archive *a, void *priv, const void *data, size_t n)
{
	struct snap *s = priv;
	if (s->out.len + n > SNAPSHOT_TOTAL_MAX)
		return -1;
	buf_append(&s->out, data, n);
	return (la_ssize_t)n;
}

static bool seen(struct snap *s, const char *path)
{
	for (size_t i = 0; i < s->seen.n; i++)
		if (!strcmp(s->seen.v[i], path))
			return true;
	strv_push(&s->seen, path);
	return false;
}

static int put(struct snap *s, const char *path, mode_t type, const char *data, size_t len, const char *link)
{
	const char *rel = path + (path[0] == '/');
	if (seen(s, rel))
		return 0;
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : type == AE_IFLNK ? 0777 : 0644);
	archive_entry_set_mtime(e, s->now, 0);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
	int r = archive_write_header(s->a, e);
	if (r == ARCHIVE_OK && type == AE_IFREG && len)
		r = archive_write_data(s->a, data, len) == (la_ssize_t)len ? ARCHIVE_OK : ARCHIVE_FATAL;
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return -EIO;
	if (type == AE_IFREG)
		s->st->files++;
	else if (type == AE_IFLNK)
		s->st->links++;
	return 0;
}

/* A regular file of the root, if it is there. */
static void put_file(struct snap *s, const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = startswith(path, "/sys/") ? root_read_sysfs(s->rootfd, path, SNAPSHOT_ENTRY_MAX, &data, &len)
					  : root_read_file(s->rootfd, path, SNAPSHOT_ENTRY_MAX, &data, &len);
	if (r < 0) {
		s->st->skipped++;
		return;
	}
	put(s, path, AE_IFREG, data, len, NULL);
}

static void put_link(struct snap *s, const char *path)
{
	_cleanup_free_ char *t = NULL;
	if (root_readlink(s->rootfd, path, &t) < 0) {
		s->st->skipped++;
		return;
	}
	put(s, path, AE_IFLNK, NULL, 0, t);
}

/* Collapse "a/b/../c" (the link's directory joined with its target). */
static char *resolve_rel(const char *linkpath, const char *target)
{
	struct strv parts = {0};
	_cleanup_free_ char *dir = xstrdup(linkpath);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	_cleanup_free_ char *joined = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", dir, target);
	char *save = NULL;
	for (char *tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (parts.n)
				free(parts.v[--parts.n]), parts.v[parts.n] = NULL;
			continue;
		}
		strv_push(&parts, tok);
	}
	struct buf b = {0};
	for (size_t i = 0; i < parts.n; i++)
		buf_printf(&b, "/%s", parts.v[i]);
	strv_free(&parts);
	buf_str(&b);
	return b.data;
}

typedef void (*entry_fn)(struct snap *s, const char *dir, const char *name);

static void each_entry(struct snap *s, const char *dir, entry_fn fn)
{
	DIR *d = root_opendir(s->rootfd, dir);
	if (!d)
		return;
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)) && names.n < 4096)
		if (de->d_name[0] != '.')
			strv_push(&names, de->d_name);
	closedir(d);
	for (size_t i = 0; i < names.n; i++)
		fn(s, dir, names.v[i]);
	strv_free(&names);
}

static void put_pci_device(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *link = xasprintf("%s/%s", dir, name);
	put_link(s, link);
	_cleanup_free_ char *t = NULL;
	if (root_readlink(s->rootfd, link, &t) < 0)
		return;
	_cleanup_free_ char *devdir = resolve_rel(link, t);
	if (!startswith(devdir, "/sys/devices/"))
		return;
	static const char *const attrs[] = {"class", "vendor", "device", "subsystem_vendor", "subsystem_device",
					    "revision", "config"};
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", devdir, attrs[i]);
		put_file(s, p);
	}
	_cleanup_free_ char *bv = xasprintf("%s/boot_vga", devdir); /* the boot console's GPU (check) */
	if (root_exists(s->rootfd, bv) == 0)
		put_file(s, bv);
	static const char *const links[] = {"driver", "iommu_group"};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", devdir, links[i]);
		if (root_exists(s->rootfd, p) == 0)
			put_link(s, p);
	}
}

static void put_group_dev(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	put_link(s, p);
}

static void put_group(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *devs = xasprintf("%s/%s/devices", dir, name);
	_cleanup_free_ char *type = xasprintf("%s/%s/type", dir, name);
	put(s, devs, AE_IFDIR, NULL, 0, NULL);
	put_file(s, type);
	each_entry(s, devs, put_group_dev);
}

static void put_class_link(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	_cleanup_close_ int fd = root_open(s->rootfd, p, O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
		put_link(s, p);
	else
		put(s, p, AE_IFDIR, NULL, 0, NULL);
}

static void put_efivar(struct snap *s, const char *dir, const char *name)
{
	if (!startswith(name, "SecureBoot-"))
		return;
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	put_file(s, p);
}

static void put_grub_d(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	put_file(s, p);
}

/* What the symbol list said about the override, not the list (megabytes):
 * the two lines that decide the same verdict on replay. */
static void put_acs_support(struct snap *s)
{
	_cleanup_free_ char *rel = NULL;
	if (root_read_attr(s->rootfd, "/proc/sys/kernel/osrelease", &rel) < 0)
		rel = NULL;
	struct acs_support a;
	acs_support_detect(s->rootfd, rel, false, false, &a);
	if (a.evidence != ACS_EV_KALLSYMS && a.evidence != ACS_EV_SYSTEM_MAP)
		return;
	_cleanup_free_ char *text = xasprintf("0000000000000000 T pci_dev_specific_acs_enabled\n%s%s%s",
					      a.symbol[0] ? "0000000000000000 t " : "", a.symbol, a.symbol[0] ? "\n" : "");
	put(s, a.source, AE_IFREG, text, strlen(text), NULL);
}

int snapshot_build(int rootfd, const char *const *klog, size_t nklog, char **out, size_t *len,
		   struct snapshot_stats *st, struct acso_err *e)
{
	struct snapshot_stats dummy;
	struct snap s = {.rootfd = rootfd, .st = st ? st : &dummy, .now = time(NULL)};
	memset(s.st, 0, sizeof(*s.st));
	s.a = archive_write_new();
	archive_write_set_format_pax_restricted(s.a);
	archive_write_add_filter_gzip(s.a);
	archive_write_set_bytes_in_last_block(s.a, 1);
	if (archive_write_open(s.a, &s, NULL, mem_write, NULL) != ARCHIVE_OK) {
		int r = err_set(e, -EIO, "archive: %s", archive_error_string(s.a));
		archive_write_free(s.a);
		return r;
	}
	each_entry(&s, "/sys/bus/pci/devices", put_pci_device);
	put(&s, "/sys/kernel/iommu_groups", AE_IFDIR, NULL, 0, NULL);
	each_entry(&s, "/sys/kernel/iommu_groups", put_group);
	put(&s, "/sys/class/iommu", AE_IFDIR, NULL, 0, NULL);
	each_entry(&s, "/sys/class/iommu", put_class_link);
	each_entry(&s, "/sys/class/block", put_class_link);
	each_entry(&s, "/sys/class/net", put_class_link);
	each_entry(&s, "/sys/dev/block", put_class_link);
	each_entry(&s, "/sys/firmware/efi/efivars", put_efivar);
	static const char *const files[] = {
		"/proc/cpuinfo", "/proc/cmdline", "/proc/version", "/proc/version_signature",
		"/proc/sys/kernel/osrelease", "/proc/modules", "/proc/mounts", "/proc/self/mountinfo", "/proc/net/route",
		"/etc/default/grub", "/etc/os-release",
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		put_file(&s, files[i]);
	each_entry(&s, "/etc/default/grub.d", put_grub_d);
	/* Presence only: /dev/kvm, the libvirt binaries and enabled units,
	 * Proxmox VE's files, the firmware's IOMMU tables (what check reads). */
	static const char *const markers[] = {
		"/dev/kvm", "/usr/sbin/libvirtd", "/usr/bin/virsh", "/usr/sbin/virtqemud",
		"/etc/systemd/system/multi-user.target.wants/libvirtd.service",
		"/etc/systemd/system/sockets.target.wants/libvirtd.socket",
		"/etc/systemd/system/multi-user.target.wants/virtqemud.service",
		"/etc/systemd/system/sockets.target.wants/virtqemud.socket",
		"/var/lib/dpkg/info/pve-manager.list", "/usr/bin/pveversion",
		"/sys/firmware/acpi/tables/DMAR", "/sys/firmware/acpi/tables/IVRS",
	};
	for (size_t i = 0; i < ARRAY_SIZE(markers); i++)
		if (root_exists(rootfd, markers[i]) == 0)
			put(&s, markers[i], AE_IFREG, "", 0, NULL);
	static const char *const dirs[] = {"/etc/pve", "/sys/firmware/acpi/tables"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (root_exists(rootfd, dirs[i]) == 0)
			put(&s, dirs[i], AE_IFDIR, NULL, 0, NULL);
	put_acs_support(&s);
	/* Only the libvirt line of /etc/group: the rest is nobody's business. */
	_cleanup_free_ char *grp = NULL;
	if (root_read_file(rootfd, "/etc/group", SNAPSHOT_ENTRY_MAX, &grp, NULL) == 0) {
		char *l = strstr(grp, "libvirt:");
		if (l && (l == grp || l[-1] == '\n')) {
			_cleanup_free_ char *line = xasprintf("%.*s\n", (int)strcspn(l, "\n"), l);
			put(&s, "/etc/group", AE_IFREG, line, strlen(line), NULL);
		} else {
			put(&s, "/etc/group", AE_IFREG, "", 0, NULL);
		}
	}
	struct buf log = {0};
	for (size_t i = 0; i < nklog; i++)
		buf_printf(&log, "%s\n", klog[i]);
	put(&s, "/var/log/dmesg", AE_IFREG, buf_str(&log), log.len, NULL);
	buf_free(&log);

	int r = archive_write_close(s.a) == ARCHIVE_OK ? 0 : err_set(e, -EIO, "archive: %s", archive_error_string(s.a));
	archive_write_free(s.a);
	strv_free(&s.seen);
	if (r < 0) {
		buf_free(&s.out);
		return r;
	}
	buf_str(&s.out);
	*out = s.out.data;
	*len = s.out.len;
	return 0;
}

int snapshot_is_archive(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return endswith(path, ".tar.gz") || endswith(path, ".tgz") || endswith(path, ".tar");
}

int snapshot_extract(const char *path, const char *dest, struct acso_err *e)
{
	struct archive *a = archive_read_new();
	decomp_support_builtin(a, DECOMP_GZIP);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		int r = err_set(e, -ACSO_E_PARSE, "%s", archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	struct archive *w = archive_write_disk_new();
	/* Entry names are checked here (relative, no ".."), then placed under
	 * dest; libarchive refuses to write through symlinks on the way. */
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
					  ARCHIVE_EXTRACT_NO_OVERWRITE);
	_cleanup_free_ char *base = realpath(dest, NULL);
	if (!base) {
		int rr = err_set(e, -errno, "%s: %s", dest, strerror(errno));
		archive_write_free(w);
		archive_read_free(a);
		return rr;
	}
	int r = 0;
	size_t total = 0, n = 0;
	struct archive_entry *ent;
	for (;;) {
		int h = archive_read_next_header(a, &ent);
		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK) {
			r = err_set(e, -ACSO_E_PARSE, "%s", archive_error_string(a));
			break;
		}
		if (++n > SNAPSHOT_ENTRIES_MAX) {
			r = err_set(e, -ACSO_E_TOOBIG, "more than %u entries", SNAPSHOT_ENTRIES_MAX);
			break;
		}
		const char *pn = archive_entry_pathname(ent);
		_cleanup_free_ char *name = pn ? xstrdup(pn) : NULL;
		mode_t type = archive_entry_filetype(ent);
		la_int64_t size = archive_entry_size(ent);
		if (name && (name[0] == '/' || !strcmp(name, "..") || startswith(name, "../") || strstr(name, "/../") ||
			     endswith(name, "/.."))) {
			r = err_set(e, -ACSO_E_UNSAFE, "entry '%s': path outside the snapshot", name);
			break;
		}
		if (!name || (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) || archive_entry_hardlink(ent)) {
			r = err_set(e, -ACSO_E_UNSAFE, "entry '%s': only files, directories and symlinks belong in a snapshot", name ? name : "?");
			break;
		}
		if (size < 0 || (uint64_t)size > SNAPSHOT_ENTRY_MAX || (total += (size_t)size) > SNAPSHOT_TOTAL_MAX) {
			r = err_set(e, -ACSO_E_TOOBIG, "entry '%s' is too large", name);
			break;
		}
		_cleanup_free_ char *full = path_join(base, name);
		archive_entry_set_pathname(ent, full);
		archive_entry_set_perm(ent, type == AE_IFDIR ? 0755 : 0644);
		if (archive_write_header(w, ent) != ARCHIVE_OK) {
			r = err_set(e, -ACSO_E_UNSAFE, "entry '%s': %s", name, archive_error_string(w));
			break;
		}
		const void *buf;
		size_t len;
		la_int64_t off;
		int d;
		while ((d = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK) {
				d = ARCHIVE_FATAL;
				break;
			}
		if (d != ARCHIVE_EOF) {
			r = err_set(e, -ACSO_E_PARSE, "entry '%s': %s", name, archive_error_string(a));
			break;
		}
		archive_write_finish_entry(w);
	}
	archive_write_close(w);
	archive_write_free(w);
	archive_read_free(a);
	return r;
}

int snapshot_iommu_report(const char *path, struct iommu_report *r, struct acso_err *e)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *dir = xasprintf("%s/acso-before.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return err_set(e, -errno, "create a temp dir: %s", strerror(errno));
	int rc = snapshot_extract(path, dir, e);
	if (rc == 0) {
		int fd = root_open_dir(dir);
		if (fd < 0)
			rc = err_set(e, fd, "%s", acso_strerror(fd));
		else {
			rc = iommu_report_build(fd, r, e);
			if (rc == 0)
				pci_fill_names(&r->pci);
			close(fd);
		}
	}
	rm_rf_at(AT_FDCWD, dir);
	return rc;
}
