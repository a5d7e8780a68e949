/* fuzz-pciconfig.c — libFuzzer target for the PCI config space parser
 * (capability list and extended capability walk) and the address parser.
 * Built by scripts/fuzz with clang -fsanitize=fuzzer,address,undefined. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "machine/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_cfg c;
	pci_parse_config(data, size, &c);
	/* Invariants: an ACS answer needs a PCIe capability and 260+ bytes. */
	if (c.acs == TRI_YES && (c.pcie < 0 || size < 0x104))
		__builtin_trap();
	if (c.valid != (size >= 64))
		__builtin_trap();
	char s[32];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	unsigned d, b, sl, f;
	if (pci_parse_addr(s, &d, &b, &sl, &f) == 0 && (sl > 0x1f || f > 7 || b > 0xff || d > 0xffff))
		__builtin_trap();
	return 0;
}
