/* acs-main.h — the harness's main(), included after the placed table.
 * argv[1]: the pcie_acs_override= value ("-" for none).
 * argv[2..]: devices "VVVV:DDDD:TYPE[:mf][:acs][:conv]", TYPE one of
 * rp ds us ep leg rcend bridge; prints the table's verdict for each. */
static int dispatch(struct pci_dev *dev)
{
	for (const struct pci_dev_acs_enabled *i = pci_dev_acs_enabled; i->acs_enabled; i++)
		if ((i->vendor == dev->vendor || i->vendor == (u16)PCI_ANY_ID) &&
		    (i->device == dev->device || i->device == (u16)PCI_ANY_ID)) {
			int r = i->acs_enabled(dev, 0x1d);
			if (r >= 0)
				return r;
		}
	return -ENOTTY;
}

int main(int argc, char **argv)
{
	static const struct { const char *n; int t; } types[] = {
		{"rp", PCI_EXP_TYPE_ROOT_PORT}, {"ds", PCI_EXP_TYPE_DOWNSTREAM},
		{"us", PCI_EXP_TYPE_UPSTREAM}, {"ep", PCI_EXP_TYPE_ENDPOINT},
		{"leg", PCI_EXP_TYPE_LEG_END}, {"rcend", PCI_EXP_TYPE_RC_END},
		{"bridge", PCI_EXP_TYPE_PCI_BRIDGE},
	};
	(void)early_name;
	if (argc > 1 && strcmp(argv[1], "-"))
		early_setup(strdup(argv[1]));
	printf("downstream=%d multifunction=%d ids=%u\n", pcie_acs_override_downstream,
	       pcie_acs_override_multifunction, pcie_acs_override_nr_ids);
	for (unsigned i = 0; i < pcie_acs_override_nr_ids; i++)
		printf("id %04x:%04x\n", pcie_acs_override_ids[i].vendor, pcie_acs_override_ids[i].device);
	for (int a = 2; a < argc; a++) {
		struct pci_dev d = {.is_pcie = true};
		char type[16] = "";
		unsigned v, dv;
		if (sscanf(argv[a], "%4x:%4x:%15[a-z]", &v, &dv, type) != 3)
			return 2;
		d.vendor = v, d.device = dv;
		d.type = -1;
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			if (!strcmp(types[t].n, type))
				d.type = types[t].t;
		d.multifunction = strstr(argv[a], ":mf") != NULL;
		d.has_acs = strstr(argv[a], ":acs") != NULL;
		d.is_pcie = strstr(argv[a], ":conv") == NULL;
		printf("%s -> %d\n", argv[a], dispatch(&d));
	}
	return 0;
}
