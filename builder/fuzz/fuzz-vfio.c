/* fuzz-vfio.c — libFuzzer target: what acso vfio reads back from the
 * machine: a hand-written /etc/modprobe.d/acso-vfio.conf, an initramfs
 * modules file, its own record. Checks that merging is idempotent (acso's
 * block is found again and replaced, the user's lines kept) and that the
 * vfio modules are present after a merge. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "vfio/bind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfio_plan p = {.gpu = "01:00.0", .nfns = 1, .ids = xstrdup("10de:1e04")};
	strv_push(&p.softdeps, "nvidia");
	size_t l1, l2;
	char *once = vfio_modprobe_merge(&p, (const char *)data, size, &l1);
	char *twice = vfio_modprobe_merge(&p, once, l1, &l2);
	if (l1 != l2 || memcmp(once, twice, l1))
		abort();
	free(once);
	free(twice);
	p.virqfd = size & 1;
	once = vfio_modules_merge(&p, (const char *)data, size, &l1);
	twice = vfio_modules_merge(&p, once, l1, &l2);
	if (l1 != l2 || memcmp(once, twice, l1))
		abort();
	free(once);
	free(twice);
	struct acso_err e = {0};
	if (vfio_record_check((const char *)data, size, &e) < 0 && !e.msg[0])
		abort();
	vfio_plan_free(&p);
	return 0;
}
