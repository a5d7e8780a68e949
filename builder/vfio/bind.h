/* bind.h — acso vfio: the GPU's own functions held by vfio-pci from boot
 * (FIELD-NOTES §7, §9). The step after the override: a GPU that has a group
 * of its own must be taken by vfio-pci before its usual driver (nvidia,
 * nouveau, amdgpu, snd_hda_intel, xhci_pci) loads from the initramfs.
 *
 * Which functions: the chosen GPU and its own functions (same bus and slot,
 * machine/iommu's reading). Refused when the GPU's group after the
 * override (as it is when the GPU is isolated already; else as the least
 * invasive override predicts it, since acso run binds before the reboot
 * into the ACS kernel) holds anything else but bridges, always when it
 * holds the root file system's disk or the default-route NIC (boot/pick's
 * rule), and when a function is the boot console's display (boot_vga) unless
 * forced; a kernel without virtual terminals has no console on any display
 * (a serial console only), so its boot VGA is no refusal.
 *
 * How: /etc/modprobe.d/acso-vfio.conf says `options vfio-pci ids=...` and
 * `softdep MODULE pre: vfio-pci` for each module that holds a function
 * today. When another device shares one of the IDs (two identical GPUs),
 * ids= would take both: the file then holds a modprobe `install vfio-pci`
 * line that writes each function's driver_override before vfio-pci loads
 * (the softdeps load vfio-pci first; modprobe.d goes into the initramfs with
 * it). The vfio modules go into the initramfs (/etc/initramfs-tools/modules,
 * or /etc/dracut.conf.d/acso-vfio.conf), which is then rebuilt
 * (update-initramfs -u -k RELEASE, or dracut -f --kver RELEASE, in a chroot
 * for a root other than /).
 *
 * Every file's content before the first `acso vfio` is kept beneath the
 * root in /var/lib/acso/vfio with a record of what was done; --remove puts
 * each back byte for byte. A failed initramfs update puts every file back.
 * Core: never prints. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "machine/iommu.h"

struct acso_err;

#define VFIO_STATE_DIR "/var/lib/acso/vfio"
#define VFIO_MODPROBE  "/etc/modprobe.d/acso-vfio.conf"
#define VFIO_MODULES   "/etc/initramfs-tools/modules"
#define VFIO_DRACUT    "/etc/dracut.conf.d/acso-vfio.conf"
#define VFIO_MAX_FNS   8

enum vfio_status {
	VFIO_OK,
	VFIO_IOMMU_OFF,      /* no IOMMU groups */
	VFIO_NO_DEVICE,      /* the address names no PCI device */
	VFIO_NOT_DISPLAY,    /* ... a device, but no display controller */
	VFIO_NO_GPU,         /* no GPU at all */
	VFIO_AMBIGUOUS,      /* several GPUs, none named */
	VFIO_NO_GROUP,       /* the GPU has no IOMMU group */
	VFIO_HOST_CRITICAL,  /* its group holds the root disk or the default-route NIC */
	VFIO_SHARED,         /* its group holds another device (not a bridge) */
	VFIO_BOOT_CONSOLE,   /* a function is the boot console's display; --force */
	VFIO_NOT_BOUND,      /* --remove: no record of an acso vfio */
};

enum initramfs_tool { INITRAMFS_NONE, INITRAMFS_TOOLS, INITRAMFS_DRACUT };

struct vfio_fn {
	char addr[16];       /* "0000:01:00.0" */
	uint16_t vendor, device;
	char *driver;        /* bound now, NULL: none */
	char *module;        /* the module of that driver (softdep), NULL: none */
};

/* One file acso vfio writes: what it holds now and what it will hold. */
struct vfio_file {
	const char *path;    /* VFIO_MODPROBE, ... */
	char *old; size_t old_len;   /* NULL: absent */
	mode_t old_mode;
	char *text; size_t text_len; /* NULL: delete */
	bool changes;
};

struct vfio_request {
	const char *root;    /* "/" or --root DIR (for chroot) */
	const char *gpu;     /* address, NULL: the one `acso groups` would choose */
	const char *release; /* kernel whose initramfs is updated, NULL: the running one */
	bool force;          /* bind the boot console's display */
	bool remove;
	bool no_update;
	int log_fd;          /* the initramfs tool's output, -1: discarded */
};

struct vfio_plan {
	enum vfio_status status;
	char gpu[16];
	size_t count;                /* VFIO_AMBIGUOUS: GPUs */
	char holder[16];             /* HOST_CRITICAL, SHARED, BOOT_CONSOLE: the device */
	bool holder_root_fs;         /* HOST_CRITICAL: root disk (else default-route NIC) */
	struct vfio_fn fns[VFIO_MAX_FNS];
	size_t nfns;
	char *override;              /* the override the decision assumed (the GPU
				      * still shares its group now), NULL: none */
	bool by_address;             /* another device shares an ID */
	char shared_id_with[16];     /* ... that device */
	char *ids;                   /* "10de:1e04,...", NULL with by_address */
	struct strv softdeps;        /* modules that hold a function today */
	bool boot_console;           /* forced past VFIO_BOOT_CONSOLE */
	bool boot_vga_no_vt;         /* holder is the boot VGA, but the kernel has no VT */
	bool builtin;                /* vfio-pci is built into the kernel: modprobe.d cannot reach it */
	bool vfio_options_of_user;   /* the user's own lines already set vfio-pci options */
	size_t user_lines;           /* the user's own lines kept in acso-vfio.conf */
	char *release;
	bool virqfd;                 /* vfio_virqfd too (before 6.2) */
	enum initramfs_tool tool;
	struct strv update_argv;     /* empty: no update (--no-update, no tool) */
	struct vfio_file files[3];
	size_t nfiles;
	bool had_record;             /* an earlier acso vfio's record (its originals are kept) */
	/* vfio_apply: */
	bool update_failed;          /* the update failed, every file was put back */
	bool remove_update_failed;   /* --remove: files restored, the initramfs update failed */
};
void vfio_plan_free(struct vfio_plan *p);

/* The GPU and its functions, and whether they may be bound (p->status).
 * Reads boot_vga and the drivers' modules through rootfd. 0 (VFIO_OK) or
 * -ACSO_E_STATE. */
int vfio_decide(int rootfd, const struct iommu_report *r, const char *gpu, bool force, struct vfio_plan *p);

/* The whole plan of rq: decide (or, with rq->remove, read the record), the
 * files' new contents, the initramfs tool and its command. 0;
 * -ACSO_E_STATE when refused (p->status); -ACSO_E_NOTFOUND when the kernel
 * release cannot be told (e); or an error reading the machine. */
int vfio_plan_build(int rootfd, const struct vfio_request *rq, struct vfio_plan *p, struct acso_err *e);

/* Do it: keep the originals and the record, write the files, update the
 * initramfs. On a failed update every file is put back (p->update_failed)
 * and -ACSO_E_CHILD is returned. --remove: files restored, the record
 * removed once the update succeeded. */
int vfio_apply(int rootfd, const struct vfio_request *rq, struct vfio_plan *p, struct acso_err *e);

/* What `acso verify` checks: the record of acso vfio and each function's
 * driver now. */
struct vfio_status_now {
	bool recorded;               /* acso vfio was used */
	char gpu[16];
	struct vfio_fn fns[VFIO_MAX_FNS];  /* driver: now */
	size_t nfns;
	bool all_vfio;               /* every function is held by vfio-pci */
	bool proxmox;                /* qm instead of libvirt */
	bool rom_posted;             /* the host posted the card (boot_vga): its ROM is shadowed */
};
/* 0 (recorded false when there is no record), or -ACSO_E_PARSE for a
 * record acso cannot read. */
int vfio_status_read(int rootfd, struct vfio_status_now *s, struct acso_err *e);
void vfio_status_free(struct vfio_status_now *s);

/* The parsers of what acso reads back, exposed for the fuzz target:
 * acso-vfio.conf as base (the user's lines kept, acso's block replaced,
 * p->user_lines counted) merged with p's binding; the initramfs modules
 * file with the missing vfio modules appended; a record's text checked
 * (0 or -ACSO_E_PARSE). The merges return malloc'ed text. */
char *vfio_modprobe_merge(struct vfio_plan *p, const char *base, size_t len, size_t *out_len);
char *vfio_modules_merge(const struct vfio_plan *p, const char *base, size_t len, size_t *out_len);
int vfio_record_check(const char *text, size_t len, struct acso_err *e);

/* For the unit tests: the kernel before 6.2 needs vfio_virqfd. */
bool vfio_needs_virqfd(const char *release);
