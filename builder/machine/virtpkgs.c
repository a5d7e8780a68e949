/* virtpkgs.c — see virtpkgs.h. */
#include <string.h>

#include "base/err.h"
#include "machine/virtpkgs.h"

char *osrelease_get(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len > kl && !strncmp(l, key, kl) && l[kl] == '=') {
			const char *v = l + kl + 1;
			size_t vl = len - kl - 1;
			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
				v++;
				vl -= 2;
			}
			return xstrndup(v, vl);
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* "18.04" < "18.10": compare major.minor numerically. */
static bool version_before(const char *v, unsigned major, unsigned minor)
{
	unsigned a = 0, b = 0;
	const char *dot = strchr(v, '.');
	_cleanup_free_ char *maj = dot ? xstrndup(v, (size_t)(dot - v)) : xstrdup(v);
	uint32_t x;
	if (parse_u32(maj, 10, &x) < 0)
		return false;
	a = x;
	if (dot && parse_u32(dot + 1, 10, &x) == 0)
		b = x;
	return a < major || (a == major && b < minor);
}

static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; p && (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

int virt_packages(const char *osr, struct strv *pkgs, char **distro)
{
	_cleanup_free_ char *id = osrelease_get(osr, "ID");
	_cleanup_free_ char *like = osrelease_get(osr, "ID_LIKE");
	_cleanup_free_ char *ver = osrelease_get(osr, "VERSION_ID");
	_cleanup_free_ char *ucode = osrelease_get(osr, "UBUNTU_CODENAME");
	_cleanup_free_ char *pretty = osrelease_get(osr, "PRETTY_NAME");
	*distro = xstrdup(pretty ? pretty : id ? id : "unknown");
	bool ubuntu = (id && !strcmp(id, "ubuntu")) || (like && word_in(like, "ubuntu")) || ucode;
	bool debian = (id && !strcmp(id, "debian")) || (like && word_in(like, "debian"));
	if (!ubuntu && !debian)
		return -ACSO_E_UNSUPPORTED;
	bool old = false;
	if (ucode)
		old = !strcmp(ucode, "trusty") || !strcmp(ucode, "xenial") || !strcmp(ucode, "bionic");
	else if (id && !strcmp(id, "ubuntu") && ver)
		old = version_before(ver, 18, 10);
	if (ubuntu) {
		strv_push(pkgs, "qemu-kvm");
		if (old) {
			strv_push(pkgs, "libvirt-bin");
		} else {
			strv_push(pkgs, "libvirt-daemon-system");
			strv_push(pkgs, "libvirt-clients");
		}
	} else {
		strv_push(pkgs, "qemu-system-x86");
		strv_push(pkgs, "libvirt-daemon-system");
		strv_push(pkgs, "libvirt-clients");
	}
	strv_push(pkgs, "bridge-utils");
	return 0;
}

bool dpkg_installed(const char *status, const char *pkg)
{
	_cleanup_free_ char *head = xasprintf("Package: %s\n", pkg);
	for (const char *p = status; p && (p = strstr(p, head)); p += strlen(head)) {
		if (p != status && p[-1] != '\n')
			continue;
		const char *end = strstr(p, "\n\n");
		const char *st = strstr(p, "\nStatus: ");
		if (st && (!end || st < end)) {
			st += strlen("\nStatus: ");
			const char *eol = strchr(st, '\n');
			size_t n = eol ? (size_t)(eol - st) : strlen(st);
			return n == strlen("install ok installed") && !strncmp(st, "install ok installed", n);
		}
		return false;
	}
	return false;
}
