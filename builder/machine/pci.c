/* pci.c — PCI devices from sysfs through the root (see pci.h).
 *
 * Sources, as the kernel lays them out: /sys/bus/pci/devices/<addr> links
 * into /sys/devices/pci<dom>:<bus>/.../<addr> (the path gives the bridge
 * chain), /sys/kernel/iommu_groups/<n>/devices/<addr> (the groups), and in
 * each device directory `class`, `vendor`, `device`, `subsystem_*`,
 * `revision`, `config` and the `driver` link. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "base/fileio.h"
#include "machine/pci.h"
#include "machine/pcinames.h"
#include "base/util.h"

#define CONFIG_MAX 65536   /* sysfs config is 256 or 4096 bytes; anything bigger is not one */

static uint16_t rd16(const uint8_t *p, size_t off) { return (uint16_t)(p[off] | p[off + 1] << 8); }
static uint32_t rd32(const uint8_t *p, size_t off)
{
	return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

void pci_parse_config(const uint8_t *data, size_t len, struct pci_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->len = len;
	out->pcie = PCIE_UNKNOWN;
	out->acs = TRI_UNKNOWN;
	if (!data || len < 64)
		return;
	out->valid = true;
	out->vendor = rd16(data, 0);
	out->device = rd16(data, 2);
	out->class = (uint32_t)data[11] << 16 | (uint32_t)data[10] << 8 | data[9];
	out->header_type = data[0x0e] & 0x7f;
	out->multifunction = data[0x0e] & 0x80;
	uint16_t status = rd16(data, 6);

	/* Standard capability list: at most 48 entries (256-64)/4, pointers
	 * dword aligned inside the first 256 bytes. */
	out->pcie = PCIE_NONE;
	if (status & 0x0010) {
		size_t limit = len < 256 ? len : 256;
		unsigned ptr = data[0x34] & 0xfc;
		for (int n = 0; n < 48 && ptr >= 0x40; n++) {
			if (ptr + 4 > limit) {
				out->pcie = PCIE_UNKNOWN; /* list runs past what we have */
				break;
			}
			uint8_t id = data[ptr];
			if (id == 0xff)
				break;
			if (id == 0x10) {
				out->pcie = (enum pcie_type)((rd16(data, ptr + 2) >> 4) & 0xf);
				break;
			}
			ptr = data[ptr + 1] & 0xfc;
		}
	}
	if (out->pcie < 0) {
		/* Conventional PCI has no extended space; unknown stays unknown. */
		out->acs = out->pcie == PCIE_NONE ? TRI_NO : TRI_UNKNOWN;
		return;
	}
	/* Extended capabilities start at 0x100; only readable with 4096 bytes
	 * (an unprivileged read of sysfs config gives 256). */
	if (len < 0x100 + 4)
		return;
	out->acs = TRI_NO;
	unsigned ptr = 0x100;
	for (int n = 0; n < (4096 - 0x100) / 8 && ptr; n++) {
		if (ptr < 0x100 || ptr + 8 > len || (ptr & 3)) {
			if (ptr + 4 > len)
				out->acs = TRI_UNKNOWN;
			break;
		}
		uint32_t h = rd32(data, ptr);
		if (h == 0 || h == 0xffffffff)
			break;
		if ((h & 0xffff) == PCI_EXT_CAP_ACS) {
			out->acs = TRI_YES;
			out->acs_cap = rd16(data, ptr + 4);
			out->acs_ctrl = rd16(data, ptr + 6);
			break;
		}
		ptr = (h >> 20) & 0xffc;
	}
}

int pci_parse_addr(const char *s, unsigned *dom, unsigned *bus, unsigned *slot, unsigned *func)
{
	/* dddd:bb:ss.f — exact shape, hex digits only. */
	static const char shape[] = "hhhh:hh:hh.h";
	if (strlen(s) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'h' ? !strchr("0123456789abcdefABCDEF", s[i]) || !s[i] : s[i] != shape[i])
			return -EINVAL;
	}
	unsigned d, b, sl, f;
	if (sscanf(s, "%4x:%2x:%2x.%1x", &d, &b, &sl, &f) != 4 || sl > 0x1f || f > 7)
		return -EINVAL;
	if (dom) *dom = d;
	if (bus) *bus = b;
	if (slot) *slot = sl;
	if (func) *func = f;
	return 0;
}

/* "0x10de" → 0x10de, max bounds the value. */
static int parse_hex_attr(const char *s, uint32_t max, uint32_t *out)
{
	if (!startswith(s, "0x"))
		return -EINVAL;
	uint32_t v;
	int r = parse_u32(s + 2, 16, &v);
	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int read_hex(int rootfd, const char *dir, const char *name, uint32_t max, uint32_t *out)
{
	_cleanup_free_ char *p = path_join(dir, name);
	_cleanup_free_ char *s = NULL;
	int r = root_read_sysfs(rootfd, p, 4096, &s, NULL);
	if (r < 0)
		return r;
	strip_trailing(s);
	return parse_hex_attr(s, max, out);
}

static int add_device(struct pci_list *l, const char *addr)
{
	unsigned dom, bus, slot, func;
	if (pci_parse_addr(addr, &dom, &bus, &slot, &func) < 0)
		return -EINVAL;
	int i = pci_find(l, addr);
	if (i >= 0)
		return i;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct pcidev *d = &l->v[l->n];
	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	d->domain = dom, d->bus = bus, d->slot = slot, d->func = func;
	d->revision = -1;
	d->group = -1;
	d->parent = -1;
	return (int)l->n++;
}

/* The PCI addresses along a /sys/devices path, in order. */
static void path_addrs(const char *path, struct strv *out)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		if (pci_parse_addr(tok, NULL, NULL, NULL, NULL) == 0)
			strv_push(out, tok);
}

static void read_device(int rootfd, struct pci_list *l, size_t idx, const char *dir, struct strv *parents)
{
	struct pcidev *d = &l->v[idx];
	uint32_t v;
	bool complete = true;

	/* The link target is the device's place in the topology. */
	_cleanup_free_ char *target = NULL;
	if (root_readlink(rootfd, dir, &target) == 0 && strstr(target, "devices/")) {
		struct strv chain = {0};
		path_addrs(strstr(target, "devices/"), &chain);
		if (chain.n >= 1 && !strcmp(chain.v[chain.n - 1], d->addr)) {
			d->parent_known = true;
			d->syspath = xasprintf("/sys/%s", strstr(target, "devices/"));
			strv_push(parents, chain.n >= 2 ? chain.v[chain.n - 2] : "");
		} else {
			strv_push(parents, "?");
		}
		strv_free(&chain);
	} else {
		strv_push(parents, "?");
		complete = false;
	}

	if (read_hex(rootfd, dir, "class", 0xffffff, &v) == 0)
		d->class = v, d->class_ok = true;
	uint32_t ven, dev;
	if (read_hex(rootfd, dir, "vendor", 0xffff, &ven) == 0 && read_hex(rootfd, dir, "device", 0xffff, &dev) == 0)
		d->vendor = (uint16_t)ven, d->device = (uint16_t)dev, d->ids_ok = true;
	if (read_hex(rootfd, dir, "subsystem_vendor", 0xffff, &ven) == 0 &&
	    read_hex(rootfd, dir, "subsystem_device", 0xffff, &dev) == 0)
		d->sub_vendor = (uint16_t)ven, d->sub_device = (uint16_t)dev, d->sub_ok = true;
	if (read_hex(rootfd, dir, "revision", 0xff, &v) == 0)
		d->revision = (int)v;

	_cleanup_free_ char *cfgpath = path_join(dir, "config");
	_cleanup_free_ char *cfg = NULL;
	size_t len = 0;
	if (root_read_sysfs(rootfd, cfgpath, CONFIG_MAX, &cfg, &len) == 0) {
		d->cfg_read = true;
		pci_parse_config((const uint8_t *)cfg, len, &d->cfg);
	} else {
		pci_parse_config(NULL, 0, &d->cfg);
	}
	/* Fall back to the config space for identity, and only when it is there. */
	if (!d->class_ok && d->cfg.valid)
		d->class = d->cfg.class, d->class_ok = true;
	if (!d->ids_ok && d->cfg.valid && d->cfg.vendor != 0xffff)
		d->vendor = d->cfg.vendor, d->device = d->cfg.device, d->ids_ok = true;
	if (!d->class_ok || !d->ids_ok || !d->cfg.valid)
		complete = false;

	_cleanup_free_ char *drvlink = path_join(dir, "driver");
	_cleanup_free_ char *drv = NULL;
	if (root_readlink(rootfd, drvlink, &drv) == 0) {
		const char *base = strrchr(drv, '/');
		base = base ? base + 1 : drv;
		if (*base)
			d->driver = xstrdup(base);
	}
	if (!complete)
		l->warnings++;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct pcidev *x = a, *y = b;
	return strcmp(x->addr, y->addr); /* fixed-width lower-case hex: text order is numeric order */
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

int pci_scan(int rootfd, struct pci_list *out)
{
	memset(out, 0, sizeof(*out));
	struct strv dirs = {0}, parents = {0};

	DIR *dir = root_opendir(rootfd, "/sys/bus/pci/devices");
	if (!dir)
		return -errno;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		char a[16];
		snprintf(a, sizeof(a), "%s", de->d_name);
		lower(a);
		size_t before = out->n;
		if (add_device(out, a) < 0) {
			out->warnings++;
			continue;
		}
		if (out->n > before)
			strv_pushf(&dirs, "/sys/bus/pci/devices/%s", de->d_name);
	}
	closedir(dir);

	/* Devices that appear only in a group directory are read through it. */
	DIR *gdir = root_opendir(rootfd, "/sys/kernel/iommu_groups");
	while (gdir && (de = readdir(gdir))) {
		uint32_t g;
		if (parse_u32(de->d_name, 10, &g) < 0 || g > 1000000)
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/kernel/iommu_groups/%u/devices", g);
		DIR *dd = root_opendir(rootfd, p);
		struct dirent *e;
		while (dd && (e = readdir(dd))) {
			if (e->d_name[0] == '.')
				continue;
			char a[16];
			snprintf(a, sizeof(a), "%s", e->d_name);
			lower(a);
			size_t before = out->n;
			int i = add_device(out, a);
			if (i < 0)
				continue;
			if (out->n > before)
				strv_pushf(&dirs, "%s/%s", p, e->d_name);
			if (out->v[i].group >= 0 && out->v[i].group != (int)g)
				out->warnings++; /* listed in two groups: keep the first */
			else
				out->v[i].group = (int)g;
		}
		if (dd)
			closedir(dd);
	}
	if (gdir)
		closedir(gdir);

	for (size_t i = 0; i < out->n; i++)
		read_device(rootfd, out, i, dirs.v[i], &parents);

	/* Resolve parents by address, then sort (parents keep their address). */
	char (*paddr)[16] = xcalloc(out->n ? out->n : 1, sizeof(*paddr));
	for (size_t i = 0; i < out->n; i++)
		snprintf(paddr[i], sizeof(paddr[i]), "%s", parents.v[i]);
	for (size_t i = 0; i < out->n; i++)
		out->v[i].parent = i; /* temporarily: original index */
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_dev);
	for (size_t i = 0; i < out->n; i++) {
		const char *pa = paddr[out->v[i].parent];
		out->v[i].parent = -1;
		if (*pa && strcmp(pa, "?"))
			out->v[i].parent = pci_find(out, pa);
		if (out->v[i].parent >= 0 && !pci_is_bridge(&out->v[out->v[i].parent]))
			out->v[i].parent_known = false; /* a parent that is not a bridge: do not trust */
	}
	/* A parent chain that loops (a damaged tree) is cut. */
	for (size_t i = 0; i < out->n; i++) {
		int p = out->v[i].parent;
		for (size_t hops = 0; p >= 0; hops++, p = out->v[p].parent) {
			if (hops > out->n) {
				out->v[i].parent = -1;
				out->v[i].parent_known = false;
				out->warnings++;
				break;
			}
		}
	}
	free(paddr);
	strv_free(&dirs);
	strv_free(&parents);
	return (int)out->n;
}

int pci_find(const struct pci_list *l, const char *addr)
{
	/* Linear: a machine has tens of devices, not thousands. */
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].addr, addr))
			return (int)i;
	return -1;
}

void pci_list_free(struct pci_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].driver);
		free(l->v[i].syspath);
		free(l->v[i].vendor_name);
		free(l->v[i].device_name);
		free(l->v[i].class_name);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

bool pci_is_gpu_class(uint32_t class)
{
	unsigned c = class >> 8;
	return c == 0x0300 || c == 0x0302 || c == 0x0380;
}

bool pci_is_gpu_companion_class(uint32_t class)
{
	unsigned c = class >> 8;
	return c == 0x0403 || c == 0x0c03 || c == 0x0c80;
}

bool pci_is_bridge(const struct pcidev *d)
{
	if (d->class_ok && (d->class >> 8) == 0x0604)
		return true;
	return d->cfg.valid && d->cfg.header_type == 1;
}

const char *pcie_type_name(enum pcie_type t)
{
	switch (t) {
	case PCIE_NONE: return "conventional PCI";
	case PCIE_UNKNOWN: return "unknown";
	case PCIE_ENDPOINT: return "endpoint";
	case PCIE_LEGACY_ENDPOINT: return "legacy endpoint";
	case PCIE_ROOT_PORT: return "root port";
	case PCIE_UPSTREAM: return "switch upstream port";
	case PCIE_DOWNSTREAM: return "switch downstream port";
	case PCIE_TO_PCI_BRIDGE: return "PCIe-to-PCI bridge";
	case PCI_TO_PCIE_BRIDGE: return "PCI-to-PCIe bridge";
	case PCIE_RC_ENDPOINT: return "root complex integrated endpoint";
	case PCIE_RC_EC: return "root complex event collector";
	}
	return "unknown";
}

const char *tri_name(enum tri t)
{
	return t == TRI_YES ? "yes" : t == TRI_NO ? "no" : "unknown";
}

const char *pci_short_addr(const struct pcidev *d)
{
	return d->domain == 0 ? d->addr + 5 : d->addr;
}

void pci_fill_names(struct pci_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pcidev *d = &l->v[i];
		if (d->ids_ok) {
			d->vendor_name = pcinames_vendor(d->vendor);
			d->device_name = pcinames_device(d->vendor, d->device);
		}
		if (d->class_ok)
			d->class_name = pcinames_class((uint16_t)(d->class >> 8));
	}
}
