{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides },
