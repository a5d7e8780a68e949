/* sign.h — an installed kernel image signed for Secure Boot with the MOK:
 * sbsign writes the signed image beside the original, sbverify checks it
 * against the certificate, and only then is it renamed over the original,
 * so /boot never holds a half-signed image. An image that sbverify already
 * accepts is left alone. sbsigntool is the field's tool for this (Ubuntu's
 * and Debian's own signing uses it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "package/mok.h"

struct acso_err;

enum sign_outcome {
	SIGN_DONE,          /* signed now (or would be, with dry_run) */
	SIGN_ALREADY,       /* sbverify accepted it already: left alone */
};

/* Does the image start like a PE/COFF file ("MZ", then "PE\0\0" at the
 * offset stored at 0x3c)? An x86 bzImage is one when built with
 * CONFIG_EFI_STUB; without it there is nothing shim could load. */
bool sign_is_pe(const unsigned char *head, size_t len);

/* Sign root/image (an absolute path below the root, "/boot/vmlinuz-REL")
 * with m (checked by mok_check before). With dry_run only the checks run
 * (PE image, already signed?). Errors: -ENOENT (no image), -ACSO_E_UNSUPPORTED
 * (not a PE image), -ACSO_E_NOTFOUND (sbsign/sbverify missing: install
 * sbsigntool), -ACSO_E_CHILD (sbsign failed, e.g. /boot full; the original
 * is untouched and the temporary file removed). */
int sign_image(int rootfd, const char *image, const struct mok *m, bool dry_run,
	       enum sign_outcome *out, struct acso_err *e);
