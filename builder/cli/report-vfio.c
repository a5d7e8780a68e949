/* report-vfio.c — see report-vfio.h. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/acso.h"
#include "cli/output.h"
#include "cli/report.h"
#include "cli/report-vfio.h"
#include "vfio/bind.h"

/* The next step: each function for libvirt and virt-install, or the GPU's
 * slot for Proxmox (qm passes every function of the slot). */
static void next_step(const struct vfio_status_now *s)
{
	rp_open_object("next");
	rp_text("Next: give the VM these functions; it needs UEFI firmware (ovmf)%s\n",
		s->proxmox ? " and the q35 machine type" : "");
	rp_open_array("needs");
	rp_string(RP_JSON, NULL, NULL, "ovmf");
	rp_close_array();
	if (s->proxmox) {
		char slot[16];
		snprintf(slot, sizeof(slot), "%.10s", s->fns[0].addr); /* "0000:01:00": every function */
		char line[96];
		snprintf(line, sizeof(line), "qm set VMID -hostpci0 %s,pcie=1 -bios ovmf -machine q35", slot);
		rp_string(RP_ANY, "qm", "  %s\n", line);
	} else {
		rp_text("  libvirt ('virsh edit VM', inside <devices>):\n");
		rp_open_array("libvirt_hostdev");
		for (size_t k = 0; k < s->nfns; k++) {
			unsigned dom = 0, bus = 0, slot = 0, fn = 0;
			sscanf(s->fns[k].addr, "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
			char xml[256];
			snprintf(xml, sizeof(xml),
				 "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x%04x' "
				 "bus='0x%02x' slot='0x%02x' function='0x%x'/></source></hostdev>", dom, bus, slot, fn);
			rp_string(RP_ANY, NULL, "    %s\n", xml);
		}
		rp_close_array();
		rp_text("  virt-install:");
		rp_open_array("virt_install");
		for (size_t k = 0; k < s->nfns; k++) {
			rp_string(RP_JSON, NULL, NULL, "--host-device");
			rp_string(RP_ANY, NULL, " --host-device %s", s->fns[k].addr);
		}
		rp_string(RP_JSON, NULL, NULL, "--boot");
		rp_string(RP_ANY, NULL, " --boot %s\n", "uefi");
		rp_close_array();
	}
	rp_bool(RP_JSON, "rom_posted", NULL, s->rom_posted);
	if (s->rom_posted)
		rp_text("  The host posted this card (it showed the boot console): if the VM shows no picture,\n"
			"  give it a clean dump of the card's ROM (libvirt <rom file=.../>, qm romfile=)\n");
	rp_close_object();
}

bool report_vfio(const struct acso_ctx *ctx)
{
	struct vfio_status_now s;
	struct acso_err e = {0};
	int r = vfio_status_read(ctx->rootfd, &s, &e);
	if (r < 0) {
		fail(&e, r, "verify: the record of acso vfio");
		rp_null(RP_JSON, "vfio", NULL);
		return false;
	}
	if (!s.recorded) /* no field: verify's report stays as it was without acso vfio */
		return true;
	rp_open_object("vfio");
	rp_string(RP_ANY, "gpu", "vfio-pci         GPU %s (acso vfio)\n", s.gpu);
	rp_open_array("functions");
	for (size_t k = 0; k < s.nfns; k++) {
		bool held = s.fns[k].driver && !strcmp(s.fns[k].driver, "vfio-pci");
		rp_open_object(NULL);
		rp_string(RP_ANY, "address", "  %s", s.fns[k].addr);
		rp_color_string(RP_ANY, held ? ST_PASS : ST_FAIL, "driver", " %s", s.fns[k].driver ? s.fns[k].driver : "none");
		rp_text("%s\n", held ? "" : "  (not vfio-pci)");
		rp_close_object();
	}
	rp_close_array();
	rp_bool(RP_JSON, "held", NULL, s.all_vfio);
	if (s.all_vfio)
		next_step(&s);
	else
		rp_text("Not every function is held by vfio-pci: was the initramfs updated ('acso vfio'), and rebooted?\n");
	rp_close_object();
	bool ok = s.all_vfio;
	vfio_status_free(&s);
	return ok;
}
