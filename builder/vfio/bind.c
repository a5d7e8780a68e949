/* bind.c — acso vfio's decision, files, record and initramfs update; see
 * bind.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "boot/pick.h"
#include "machine/sysinfo.h"
#include "vfio/bind.h"

#define BEGIN_MARK "# acso vfio: begin"
#define END_MARK   "# acso vfio: end"
#define FILE_MAX   (1u << 20)

/* The files acso vfio may write; the index names the kept original. */
static const char *const known_files[] = {VFIO_MODPROBE, VFIO_MODULES, VFIO_DRACUT};

static void fn_free(struct vfio_fn *f)
{
	free(f->driver);
	free(f->module);
	*f = (struct vfio_fn){0};
}

void vfio_plan_free(struct vfio_plan *p)
{
	for (size_t i = 0; i < p->nfns; i++)
		fn_free(&p->fns[i]);
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].old);
		free(p->files[i].text);
	}
	free(p->ids);
	free(p->override);
	free(p->release);
	strv_free(&p->softdeps);
	strv_free(&p->update_argv);
	*p = (struct vfio_plan){0};
}

static int refuse(struct vfio_plan *p, enum vfio_status s)
{
	p->status = s;
	return -ACSO_E_STATE;
}

bool vfio_needs_virqfd(const char *release)
{
	unsigned major = 0, minor = 0;
	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major < 6 || (major == 6 && minor < 2);
}

/* The module a driver belongs to: its sysfs module link, else the names
 * whose module differs from the driver (xhci_hcd is xhci_pci's, nvidia-gpu
 * is i2c_nvidia_gpu's), else the driver's name with '_' for '-'. */
static char *driver_module(int rootfd, const char *driver)
{
	static const char *const known[][2] = {
		{"xhci_hcd", "xhci_pci"}, {"nvidia-gpu", "i2c_nvidia_gpu"}, {"ehci-pci", "ehci_pci"},
	};
	_cleanup_free_ char *link = NULL, *path = xasprintf("/sys/bus/pci/drivers/%s/module", driver);
	if (root_readlink(rootfd, path, &link) == 0 && strrchr(link, '/'))
		return xstrdup(strrchr(link, '/') + 1);
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(driver, known[i][0]))
			return xstrdup(known[i][1]);
	char *m = xstrdup(driver);
	for (char *c = m; *c; c++)
		if (*c == '-')
			*c = '_';
	return m;
}

static bool is_boot_vga(int rootfd, const char *addr)
{
	_cleanup_free_ char *v = NULL, *path = xasprintf("/sys/bus/pci/devices/%s/boot_vga", addr);
	return root_read_attr(rootfd, path, &v) == 0 && !strcmp(v, "1");
}

static enum vfio_status from_pick(const struct iommu_report *r, const char *gpu, enum gpu_pick_status s)
{
	char a[16];
	switch (s) {
	case PICK_IOMMU_OFF: return VFIO_IOMMU_OFF;
	case PICK_NO_SUCH_GPU:
		return iommu_norm_addr(gpu, a) == 0 && pci_find(&r->pci, a) >= 0 ? VFIO_NOT_DISPLAY : VFIO_NO_DEVICE;
	case PICK_NO_GPU: return VFIO_NO_GPU;
	case PICK_AMBIGUOUS: return VFIO_AMBIGUOUS;
	case PICK_GPU_NO_GROUP: return VFIO_NO_GROUP;
	case PICK_HOST_CRITICAL: return VFIO_HOST_CRITICAL;
	default: return VFIO_SHARED;
	}
}

static void add_fn(int rootfd, struct vfio_plan *p, const struct pcidev *d)
{
	if (p->nfns == VFIO_MAX_FNS)
		return;
	struct vfio_fn *f = &p->fns[p->nfns++];
	snprintf(f->addr, sizeof(f->addr), "%s", d->addr);
	f->vendor = d->vendor;
	f->device = d->device;
	if (d->driver) {
		f->driver = xstrdup(d->driver);
		if (strcmp(d->driver, "vfio-pci")) {
			f->module = driver_module(rootfd, d->driver);
			if (!strv_has(&p->softdeps, f->module))
				strv_push(&p->softdeps, f->module);
		}
	}
}

/* Is a device other than the GPU's functions given one of their IDs? */
static void check_shared_ids(const struct iommu_report *r, struct vfio_plan *p)
{
	for (size_t j = 0; j < r->pci.n && !p->by_address; j++) {
		const struct pcidev *d = &r->pci.v[j];
		bool own = false, same = false;
		for (size_t k = 0; k < p->nfns; k++) {
			own |= !strcmp(p->fns[k].addr, d->addr);
			same |= d->ids_ok && d->vendor == p->fns[k].vendor && d->device == p->fns[k].device;
		}
		if (same && !own) {
			p->by_address = true;
			snprintf(p->shared_id_with, sizeof(p->shared_id_with), "%s", pci_short_addr(d));
		}
	}
}

int vfio_decide(int rootfd, const struct iommu_report *r, const char *gpu, bool force, struct vfio_plan *p)
{
	/* boot/pick's rule on the group after the override: the least
	 * invasive override's prediction when the GPU still shares its group
	 * (acso run binds before the reboot into the ACS kernel), the group as
	 * it is when it is already isolated. */
	struct gpu_pick pk;
	int q = gpu_pick(r, gpu, true, true, &pk);
	snprintf(p->gpu, sizeof(p->gpu), "%s", pk.gpu);
	snprintf(p->holder, sizeof(p->holder), "%s", pk.holder);
	p->holder_root_fs = pk.holder_root_fs;
	p->count = pk.count;
	enum gpu_pick_status ps = pk.status;
	if (q == 0 && pk.acs && *pk.acs)
		p->override = xstrdup(pk.acs);
	gpu_pick_free(&pk);
	if (ps == PICK_NO_SPLIT) {
		/* No override splits the group: all of it stays, and a device
		 * the host needs is the reason to name. */
		q = gpu_pick(r, gpu, false, true, &pk);
		snprintf(p->holder, sizeof(p->holder), "%s", pk.holder);
		p->holder_root_fs = pk.holder_root_fs;
		ps = q < 0 ? pk.status : PICK_NO_SPLIT;
		gpu_pick_free(&pk);
		q = -ACSO_E_STATE;
	}
	int gi = p->gpu[0] ? iommu_find_gpu(r, p->gpu) : -1;
	if (q < 0) {
		enum vfio_status vs = from_pick(r, gpu, ps);
		if (vs == VFIO_SHARED && !p->holder[0] && gi >= 0 && r->gpus[gi].nblockers)
			snprintf(p->holder, sizeof(p->holder), "%s", pci_short_addr(&r->pci.v[r->gpus[gi].blockers[0].dev]));
		return refuse(p, vs);
	}
	const struct gpu_verdict *g = &r->gpus[gi];
	/* Still in the way: with an override, what its prediction leaves;
	 * else every other device (a broad override predicts nothing). */
	int in_way = -1;
	if (g->nunknown)
		in_way = g->unknown[0];
	else if (g->verdict == VERDICT_SHARED && g->override)
		in_way = g->nremaining ? g->remaining[0] : -1;
	else if (g->nblockers)
		in_way = g->blockers[0].dev;
	if (in_way >= 0) {
		snprintf(p->holder, sizeof(p->holder), "%s", pci_short_addr(&r->pci.v[in_way]));
		return refuse(p, VFIO_SHARED);
	}
	add_fn(rootfd, p, &r->pci.v[g->dev]);
	for (size_t k = 0; k < g->nfunctions; k++)
		add_fn(rootfd, p, &r->pci.v[g->functions[k]]);
	bool vt = sysinfo_has_vt(rootfd);
	for (size_t k = 0; k < p->nfns && !p->boot_console && !p->boot_vga_no_vt; k++)
		if (is_boot_vga(rootfd, p->fns[k].addr)) {
			snprintf(p->holder, sizeof(p->holder), "%s", p->fns[k].addr + 5);
			if (!vt)
				p->boot_vga_no_vt = true;
			else if (!force)
				return refuse(p, VFIO_BOOT_CONSOLE);
			else
				p->boot_console = true;
		}
	check_shared_ids(r, p);
	if (!p->by_address) {
		struct buf ids = {0};
		for (size_t k = 0; k < p->nfns; k++) {
			char id[16];
			snprintf(id, sizeof(id), "%04x:%04x", p->fns[k].vendor, p->fns[k].device);
			if (!strstr(buf_str(&ids), id))
				buf_printf(&ids, "%s%s", ids.len ? "," : "", id);
		}
		p->ids = buf_take(&ids, NULL);
	}
	p->status = VFIO_OK;
	return 0;
}

/* ---- files under the root ------------------------------------------- */

static int read_root_file(int rootfd, const char *path, char **out, size_t *len, mode_t *mode)
{
	*out = NULL;
	*len = 0;
	_cleanup_close_ int fd = root_open(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ACSO_E_UNSAFE;
	*mode = st.st_mode & 07777;
	return read_fd_bounded(fd, FILE_MAX, out, len);
}

/* Write text to path (NULL: delete it), its directory made when missing. */
static int write_root_file(int rootfd, const char *path, const char *text, size_t len, mode_t mode)
{
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	int q = text ? mkdir_p_at(rootfd, dir + 1, 0755) : 0;
	if (q < 0)
		return q;
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, dir);
	if (dfd < 0)
		return text || dfd != -ENOENT ? dfd : 0;
	const char *base = strrchr(path, '/') + 1;
	if (!text)
		return unlinkat(dfd, base, 0) < 0 && errno != ENOENT ? -errno : 0;
	int r = write_file_atomic(dfd, base, text, len, mode, 0);
	return r < 0 ? r : 0;
}

/* ---- the record ------------------------------------------------------- */

struct record {
	bool present;
	char gpu[16];
	char *release;
	struct strv fns;          /* "ADDR VVVV:DDDD" */
	bool listed[3];           /* known_files[i] is in the record */
	bool kept[3];             /* ... and existed: orig-i holds it */
	mode_t mode[3];
};

static void record_free(struct record *rc)
{
	free(rc->release);
	strv_free(&rc->fns);
	*rc = (struct record){0};
}

/* The record's text (modified in place). */
static int record_parse(char *text, struct record *rc, struct acso_err *e)
{
	rc->present = true;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[256], b[256], c[256];
		if (line[0] == '#')
			continue;
		int n = sscanf(line, "%255s %255s %255s", a, b, c);
		if (n >= 2 && !strcmp(a, "gpu") && iommu_norm_addr(b, rc->gpu) == 0)
			continue;
		if (n >= 2 && !strcmp(a, "release")) {
			free(rc->release);
			rc->release = xstrdup(b);
			continue;
		}
		if (n == 3 && !strcmp(a, "function")) {
			char addr[16];
			if (iommu_norm_addr(b, addr) == 0 && rc->fns.n < VFIO_MAX_FNS) {
				strv_pushf(&rc->fns, "%s %s", addr, c);
				continue;
			}
		}
		bool known = false;
		for (size_t i = 0; n >= 3 && !strcmp(a, "file") && i < ARRAY_SIZE(known_files); i++) {
			if (strcmp(b, known_files[i]))
				continue;
			unsigned mode = 0644;
			char kind[16];
			if (sscanf(line, "file %*s %15s %o", kind, &mode) < 1 || mode > 07777)
				break;
			rc->listed[i] = true;
			rc->kept[i] = !strcmp(kind, "kept");
			rc->mode[i] = (mode_t)mode;
			known = true;
		}
		if (!known)
			return err_set(e, -ACSO_E_PARSE, "%s/record: cannot read the line '%.80s'", VFIO_STATE_DIR, line);
	}
	if (!rc->gpu[0])
		return err_set(e, -ACSO_E_PARSE, "%s/record: no gpu line", VFIO_STATE_DIR);
	return 0;
}

static int record_read(int rootfd, struct record *rc, struct acso_err *e)
{
	*rc = (struct record){0};
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = root_read_file(rootfd, VFIO_STATE_DIR "/record", 64 * 1024, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(e, r, "%s/record: %s", VFIO_STATE_DIR, acso_strerror(r));
	return record_parse(text, rc, e);
}

int vfio_record_check(const char *text, size_t len, struct acso_err *e)
{
	struct record rc = {0};
	char *t = xstrndup(text, len);
	int r = record_parse(t, &rc, e);
	free(t);
	record_free(&rc);
	return r;
}

/* The content of known file i before acso vfio: the kept original when the
 * record lists it, else what is there now. */
static int original(int rootfd, const struct record *rc, size_t i, const struct vfio_file *now, char **out,
		    size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!rc->listed[i]) {
		if (now->old) {
			*out = xmalloc(now->old_len + 1);
			memcpy(*out, now->old, now->old_len + 1);
			*len = now->old_len;
		}
		return 0;
	}
	if (!rc->kept[i])
		return 0;
	_cleanup_free_ char *path = xasprintf("%s/orig-%zu", VFIO_STATE_DIR, i);
	return root_read_file(rootfd, path, FILE_MAX, out, len);
}

/* ---- the files' new contents ------------------------------------------ */

/* base without an acso block; counts the lines that are the user's own
 * (not blank, not a comment) and whether they set vfio-pci options. */
static void user_part(const char *base, size_t len, struct buf *out, size_t *lines, bool *vfio_opts)
{
	bool in_block = false;
	const char *s = base, *end = base + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (n >= strlen(BEGIN_MARK) && !strncmp(s, BEGIN_MARK, strlen(BEGIN_MARK)))
			in_block = true;
		else if (in_block && n == strlen(END_MARK) && !strncmp(s, END_MARK, n))
			in_block = false;
		else if (!in_block) {
			buf_append(out, s, n);
			buf_append(out, "\n", 1);
			const char *t = s;
			while (t < s + n && (*t == ' ' || *t == '\t'))
				t++;
			if (t < s + n && *t != '#') {
				(*lines)++;
				*vfio_opts |= (size_t)(s + n - t) > 16 && (!strncmp(t, "options vfio-pci", 16) ||
									  !strncmp(t, "options vfio_pci", 16));
			}
		}
		s += n + 1;
	}
}

char *vfio_modprobe_merge(struct vfio_plan *p, const char *base, size_t blen, size_t *len)
{
	struct buf b = {0};
	user_part(base, blen, &b, &p->user_lines, &p->vfio_options_of_user);
	buf_printf(&b, "%s (GPU %s; 'acso vfio --remove' takes it back)\n", BEGIN_MARK, p->gpu);
	if (p->by_address) {
		/* ids= would take the other device with the same IDs too. */
		buf_printf(&b, "# by address: %s shares an ID with these functions\n", p->shared_id_with);
		buf_printf(&b, "install vfio-pci /bin/sh -c 'for d in");
		for (size_t k = 0; k < p->nfns; k++)
			buf_printf(&b, " %s", p->fns[k].addr);
		buf_printf(&b, "; do echo vfio-pci >/sys/bus/pci/devices/$d/driver_override; done;"
			       " exec /sbin/modprobe --ignore-install vfio-pci $CMDLINE_OPTS'\n");
	} else {
		buf_printf(&b, "options vfio-pci ids=%s\n", p->ids);
	}
	for (size_t i = 0; i < p->softdeps.n; i++)
		buf_printf(&b, "softdep %s pre: vfio-pci\n", p->softdeps.v[i]);
	buf_printf(&b, "%s\n", END_MARK);
	return buf_take(&b, len);
}

static const char *const vfio_modules[] = {"vfio_pci", "vfio", "vfio_iommu_type1", "vfio_virqfd"};

/* Is word a line of text[0..len) (leading blanks allowed, anything after a
 * blank ignored)? Bounded by len: a file may hold NUL bytes. */
static bool has_line(const char *text, size_t len, const char *word)
{
	size_t n = strlen(word);
	const char *end = text + len;
	for (const char *s = text; s && s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		while (s < eol && (*s == ' ' || *s == '\t'))
			s++;
		if ((size_t)(eol - s) >= n && !memcmp(s, word, n) &&
		    (s + n == eol || s[n] == ' ' || s[n] == '\t'))
			return true;
		s = nl ? nl + 1 : NULL;
	}
	return false;
}

/* /etc/initramfs-tools/modules: the missing vfio modules appended. */
char *vfio_modules_merge(const struct vfio_plan *p, const char *base, size_t blen, size_t *len)
{
	struct buf b = {0};
	if (base)
		buf_append(&b, base, blen);
	if (b.len && buf_str(&b)[b.len - 1] != '\n')
		buf_append(&b, "\n", 1);
	bool header = false;
	for (size_t i = 0; i < ARRAY_SIZE(vfio_modules) - !p->virqfd; i++) {
		if (has_line(b.data, b.len, vfio_modules[i]))
			continue;
		if (!header)
			buf_printf(&b, "# acso vfio (GPU %s): vfio-pci before the GPU's drivers\n", p->gpu);
		header = true;
		buf_printf(&b, "%s\n", vfio_modules[i]);
	}
	return buf_take(&b, len);
}

static char *dracut_text(const struct vfio_plan *p, size_t *len)
{
	struct buf b = {0};
	buf_printf(&b, "# acso vfio (GPU %s): vfio-pci before the GPU's drivers\nforce_drivers+=\" vfio_pci vfio vfio_iommu_type1%s \"\n",
		   p->gpu, p->virqfd ? " vfio_virqfd" : "");
	return buf_take(&b, len);
}

static enum initramfs_tool detect_tool(int rootfd)
{
	static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"};
	bool update = false, dracut = false;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *u = xasprintf("%supdate-initramfs", dirs[i]), *d = xasprintf("%sdracut", dirs[i]);
		update |= root_exists(rootfd, u) == 0;
		dracut |= root_exists(rootfd, d) == 0;
	}
	/* dracut's Debian package may bring its own update-initramfs; the
	 * initramfs-tools data directory says which one builds the image. */
	if (update && root_exists(rootfd, "/usr/share/initramfs-tools") == 0)
		return INITRAMFS_TOOLS;
	if (dracut)
		return INITRAMFS_DRACUT;
	return update ? INITRAMFS_TOOLS : INITRAMFS_NONE;
}

static bool builtin_vfio_pci(int rootfd, const char *release)
{
	_cleanup_free_ char *text = NULL, *path = xasprintf("/lib/modules/%s/modules.builtin", release);
	size_t len;
	return root_read_file(rootfd, path, 8u << 20, &text, &len) == 0 && strstr(text, "/vfio-pci.ko");
}

static void update_argv(const struct vfio_request *rq, struct vfio_plan *p)
{
	if (rq->no_update || p->tool == INITRAMFS_NONE)
		return;
	strv_push_chroot(&p->update_argv, rq->root);
	if (p->tool == INITRAMFS_TOOLS) {
		strv_push(&p->update_argv, "update-initramfs");
		strv_push(&p->update_argv, "-u");
		strv_push(&p->update_argv, "-k");
	} else {
		strv_push(&p->update_argv, "dracut");
		strv_push(&p->update_argv, "-f");
		strv_push(&p->update_argv, "--kver");
	}
	strv_push(&p->update_argv, p->release);
}

static struct vfio_file *add_file(struct vfio_plan *p, const char *path)
{
	struct vfio_file *f = &p->files[p->nfiles++];
	f->path = path;
	f->old_mode = 0644;
	return f;
}

static size_t known_index(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_files); i++)
		if (!strcmp(path, known_files[i]))
			return i;
	return 0;
}

int vfio_plan_build(int rootfd, const struct vfio_request *rq, struct vfio_plan *p, struct acso_err *e)
{
	*p = (struct vfio_plan){0};
	struct record rc;
	int r = record_read(rootfd, &rc, e);
	if (r < 0)
		return r;
	p->had_record = rc.present;
	if (rq->remove) {
		if (!rc.present) {
			record_free(&rc);
			return refuse(p, VFIO_NOT_BOUND);
		}
		snprintf(p->gpu, sizeof(p->gpu), "%s", startswith(rc.gpu, "0000:") ? rc.gpu + 5 : rc.gpu);
	} else {
		struct iommu_report ir = {0};
		r = iommu_report_build(rootfd, &ir, e);
		if (r == 0)
			r = vfio_decide(rootfd, &ir, rq->gpu, rq->force, p);
		iommu_report_free(&ir);
		if (r < 0) {
			record_free(&rc);
			return r;
		}
	}
	if (rq->release)
		p->release = xstrdup(rq->release);
	else if (rq->remove && rc.release)
		p->release = xstrdup(rc.release);
	else if (root_read_attr(rootfd, "/proc/sys/kernel/osrelease", &p->release) < 0)
		p->release = NULL;
	p->tool = detect_tool(rootfd);
	if (!p->release && !rq->no_update && p->tool != INITRAMFS_NONE) {
		record_free(&rc);
		return err_set(e, -ACSO_E_NOTFOUND, "cannot tell the running kernel's release (/proc/sys/kernel/osrelease)");
	}
	p->virqfd = vfio_needs_virqfd(p->release);
	p->builtin = p->release && builtin_vfio_pci(rootfd, p->release);

	/* The files: now (old) and to be (text). */
	for (size_t i = 0; i < ARRAY_SIZE(known_files); i++) {
		bool wanted = rq->remove ? rc.listed[i]
				: i == 0 || (i == 1 && p->tool == INITRAMFS_TOOLS) || (i == 2 && p->tool == INITRAMFS_DRACUT);
		if (!wanted)
			continue;
		struct vfio_file *f = add_file(p, known_files[i]);
		if ((r = read_root_file(rootfd, f->path, &f->old, &f->old_len, &f->old_mode)) < 0)
			break;
		_cleanup_free_ char *base = NULL;
		size_t blen = 0;
		if ((r = original(rootfd, &rc, i, f, &base, &blen)) < 0) {
			err_set(e, r, "the original of %s kept in %s: %s", f->path, VFIO_STATE_DIR, acso_strerror(r));
			break;
		}
		if (rq->remove) {
			if (base)
				f->text = xmalloc(blen + 1), memcpy(f->text, base, blen + 1), f->text_len = blen;
			if (rc.kept[i])
				f->old_mode = rc.mode[i];
		} else if (i == 0) {
			f->text = vfio_modprobe_merge(p, base ? base : "", blen, &f->text_len);
		} else if (i == 1) {
			f->text = vfio_modules_merge(p, base, blen, &f->text_len);
		} else {
			f->text = dracut_text(p, &f->text_len);
		}
		f->changes = !(f->old == NULL && f->text == NULL) &&
			     (!f->old || !f->text || f->old_len != f->text_len || memcmp(f->old, f->text, f->text_len));
	}
	if (r < 0) {
		record_free(&rc);
		return e && e->code ? r : err_set(e, r, "read %s: %s", p->files[p->nfiles - 1].path, acso_strerror(r));
	}
	update_argv(rq, p);
	record_free(&rc);
	return 0;
}

/* ---- doing it --------------------------------------------------------- */

static int state_dir(int rootfd)
{
	/* /var/lib/acso as every acso step makes it; vfio/ root's alone. */
	int q = mkdir_p_at(rootfd, "var/lib/acso", 0755);
	if (q == 0)
		q = mkdir_p_at(rootfd, VFIO_STATE_DIR + 1, 0700);
	return q < 0 ? q : root_opendir_fd(rootfd, VFIO_STATE_DIR);
}

/* Keep what was there before the first acso vfio, then the record. */
static int write_record(int rootfd, const struct vfio_plan *p, struct acso_err *e)
{
	struct record rc;
	int r = record_read(rootfd, &rc, e);
	if (r < 0)
		return r;
	_cleanup_close_ int sfd = state_dir(rootfd);
	if (sfd < 0) {
		record_free(&rc);
		return err_set(e, sfd, "%s: %s", VFIO_STATE_DIR, acso_strerror(sfd));
	}
	struct buf b = {0};
	buf_printf(&b, "# acso vfio: what it bound and the files it changed ('acso vfio --remove')\n");
	buf_printf(&b, "gpu %s\n", p->gpu);
	if (p->release)
		buf_printf(&b, "release %s\n", p->release);
	for (size_t k = 0; k < p->nfns; k++)
		buf_printf(&b, "function %s %04x:%04x\n", p->fns[k].addr, p->fns[k].vendor, p->fns[k].device);
	for (size_t i = 0; i < p->nfiles && r >= 0; i++) {
		const struct vfio_file *f = &p->files[i];
		size_t k = known_index(f->path);
		if (rc.listed[k]) {
			buf_printf(&b, "file %s %s %o\n", f->path, rc.kept[k] ? "kept" : "absent", (unsigned)rc.mode[k]);
			continue;
		}
		buf_printf(&b, "file %s %s %o\n", f->path, f->old ? "kept" : "absent", (unsigned)f->old_mode);
		_cleanup_free_ char *name = xasprintf("orig-%zu", k);
		if (f->old && (r = write_file_atomic(sfd, name, f->old, f->old_len, 0600, 0)) < 0)
			err_set(e, r, "keep %s in %s: %s", f->path, VFIO_STATE_DIR, acso_strerror(r));
	}
	if (r >= 0 && (r = write_file_atomic(sfd, "record", buf_str(&b), b.len, 0600, 0)) < 0)
		err_set(e, r, "%s/record: %s", VFIO_STATE_DIR, acso_strerror(r));
	buf_free(&b);
	record_free(&rc);
	return r < 0 ? r : 0;
}

static void drop_record(int rootfd)
{
	_cleanup_close_ int lib = root_opendir_fd(rootfd, "/var/lib/acso");
	if (lib >= 0)
		rm_rf_at(lib, "vfio");
	_cleanup_close_ int var = root_opendir_fd(rootfd, "/var/lib");
	if (var >= 0)
		unlinkat(var, "acso", AT_REMOVEDIR); /* only when empty */
}

/* Put each file back to what it held before this command. */
static int put_back(int rootfd, const struct vfio_plan *p)
{
	int bad = 0;
	for (size_t i = 0; i < p->nfiles; i++)
		if (p->files[i].changes && write_root_file(rootfd, p->files[i].path, p->files[i].old,
							   p->files[i].old_len, p->files[i].old_mode) < 0)
			bad = -EIO;
	return bad;
}

int vfio_apply(int rootfd, const struct vfio_request *rq, struct vfio_plan *p, struct acso_err *e)
{
	_cleanup_free_ char *old_record = NULL;
	size_t old_record_len = 0;
	int r;
	if (!rq->remove) {
		root_read_file(rootfd, VFIO_STATE_DIR "/record", 64 * 1024, &old_record, &old_record_len);
		if ((r = write_record(rootfd, p, e)) < 0)
			return r;
	}
	for (size_t i = 0; i < p->nfiles; i++) {
		struct vfio_file *f = &p->files[i];
		if (!f->changes)
			continue;
		if ((r = write_root_file(rootfd, f->path, f->text, f->text_len, f->old_mode)) < 0) {
			err_set(e, r, "write %s: %s", f->path, acso_strerror(r));
			put_back(rootfd, p);
			return r;
		}
	}
	if (p->update_argv.n) {
		struct spawn_opts o = {.log_fd = rq->log_fd, .quiet = rq->log_fd < 0};
		r = spawn_check((const char *const *)p->update_argv.v, &o, e);
		if (r < 0 && rq->remove) {
			/* The files are the originals again; the record stays so
			 * that another --remove runs the update again. */
			p->remove_update_failed = true;
			return r;
		}
		if (r < 0) {
			int pb = put_back(rootfd, p);
			if (old_record)
				write_root_file(rootfd, VFIO_STATE_DIR "/record", old_record, old_record_len, 0600);
			else
				drop_record(rootfd);
			p->update_failed = pb == 0;
			return r;
		}
	}
	if (rq->remove)
		drop_record(rootfd);
	return 0;
}

/* ---- after the reboot --------------------------------------------------- */

void vfio_status_free(struct vfio_status_now *s)
{
	for (size_t i = 0; i < s->nfns; i++)
		fn_free(&s->fns[i]);
	*s = (struct vfio_status_now){0};
}

int vfio_status_read(int rootfd, struct vfio_status_now *s, struct acso_err *e)
{
	*s = (struct vfio_status_now){0};
	struct record rc;
	int r = record_read(rootfd, &rc, e);
	if (r < 0 || !rc.present) {
		record_free(&rc);
		return r;
	}
	s->recorded = true;
	memcpy(s->gpu, rc.gpu, sizeof(s->gpu));
	s->all_vfio = rc.fns.n > 0;
	for (size_t i = 0; i < rc.fns.n; i++) {
		struct vfio_fn *f = &s->fns[s->nfns++];
		unsigned v = 0, d = 0;
		sscanf(rc.fns.v[i], "%15s %x:%x", f->addr, &v, &d);
		f->vendor = (uint16_t)v;
		f->device = (uint16_t)d;
		_cleanup_free_ char *link = NULL, *path = xasprintf("/sys/bus/pci/devices/%s/driver", f->addr);
		if (root_readlink(rootfd, path, &link) == 0)
			f->driver = xstrdup(strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		s->all_vfio &= f->driver && !strcmp(f->driver, "vfio-pci");
		s->rom_posted |= is_boot_vga(rootfd, f->addr);
	}
	s->proxmox = root_exists(rootfd, "/usr/bin/qm") == 0 || root_exists(rootfd, "/usr/sbin/qm") == 0;
	record_free(&rc);
	return 0;
}
