/* Unit tests for package/mok.c, package/sign.c and machine/secureboot.c:
 * the MOK found where Ubuntu and Debian's DKMS keep it, refused when it is
 * not safe or not fit, made when there is none; a kernel image signed with
 * sbsign beside the original and renamed over it, left alone when already
 * signed, never half-written (a write limit stands in for a full /boot);
 * the Secure Boot state from efivarfs bytes, lockdown and mokutil's words.
 * The PE images are made here with objcopy (binutils' efi-app-x86_64
 * target), the keys with mok_create and the openssl command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "machine/secureboot.h"
#include "package/mok.h"
#include "package/sign.h"

static char *mkroot(void)
{
	char tmpl[] = "/tmp/acso-unit-sign.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = NULL;
	assert_true(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	int r = system(cmd);
	free(cmd);
	return r;
}

/* A tiny EFI application at root/boot/vmlinuz-REL. */
static void make_pe(const char *root, const char *rel)
{
	assert_int_equal(sh("set -e; cd '%s'; mkdir -p boot; echo 'void _start(void){}' >t.c;"
			    "cc -c -fPIC -O2 t.c -o t.o; ld -shared -Bsymbolic -nostdlib t.o -o t.so;"
			    "objcopy -j .text -j .dynamic -j .data -j .rela --target efi-app-x86_64 t.so boot/vmlinuz-%s;"
			    "rm t.c t.o t.so", root, rel), 0);
}

static struct mok new_mok(int rfd, const char *key, const char *cert)
{
	struct mok m = {.key = xstrdup(key), .cert = xstrdup(cert), .origin = "acso"};
	struct acso_err e = {0};
	assert_int_equal(mok_create(rfd, &m, "unit", &e), 0);
	return m;
}

static void test_find_and_check(void **state)
{
	_cleanup_free_ char *root = mkroot();
	int rfd = root_open_dir(root);
	struct acso_err e = {0};
	struct mok m;
	assert_int_equal(mok_find(rfd, &m, &e), -ENOENT);
	/* Debian: DKMS's key; mok_default_paths picks it without shim-signed */
	mok_default_paths(rfd, &m);
	assert_string_equal(m.key, "/var/lib/dkms/mok.key");
	mok_free(&m);
	struct mok d = new_mok(rfd, "/var/lib/dkms/mok.key", "/var/lib/dkms/mok.pub");
	mok_free(&d);
	assert_int_equal(mok_find(rfd, &m, &e), 0);
	assert_string_equal(m.origin, "dkms");
	assert_int_equal(mok_check(rfd, &m, getuid(), &e), 0);
	assert_non_null(strstr(m.subject, "acso Secure Boot signing key (unit)"));
	assert_int_equal(strlen(m.sha1), 40);
	/* the key is the owner's alone */
	_cleanup_free_ char *kp = path_join(root, "var/lib/dkms/mok.key");
	struct stat st;
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* never replaced */
	struct mok again = {.key = xstrdup(m.key), .cert = xstrdup(m.cert)};
	assert_int_equal(mok_create(rfd, &again, "unit", &e), -EEXIST);
	mok_free(&again);
	/* world-readable key: refused, and the message says why */
	assert_int_equal(chmod(kp, 0644), 0);
	assert_int_equal(mok_check(rfd, &m, getuid(), &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "readable by others"));
	assert_int_equal(chmod(kp, 0600), 0);
	/* another owner: refused */
	assert_int_equal(mok_check(rfd, &m, getuid() + 1, &e), -ACSO_E_UNSAFE);
	/* Ubuntu's place wins when both exist */
	struct mok u = new_mok(rfd, "/var/lib/shim-signed/mok/MOK.priv", "/var/lib/shim-signed/mok/MOK.der");
	mok_free(&u);
	mok_free(&m);
	assert_int_equal(mok_find(rfd, &m, &e), 0);
	assert_string_equal(m.origin, "ubuntu");
	/* a key that is not the certificate's */
	_cleanup_free_ char *uk = path_join(root, "var/lib/shim-signed/mok/MOK.priv");
	assert_int_equal(sh("cp -p '%s' '%s'", kp, uk), 0);
	assert_int_equal(mok_check(rfd, &m, getuid(), &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "does not belong"));
	mok_free(&m);
	/* a certificate whose key usage leaves out code signing */
	assert_int_equal(sh("cd '%s/var/lib/dkms' && openssl req -new -x509 -key mok.key -outform DER -out mok.pub "
			    "-days 1 -subj /CN=tls -addext extendedKeyUsage=serverAuth 2>/dev/null", root), 0);
	struct mok t = {.key = xstrdup("/var/lib/dkms/mok.key"), .cert = xstrdup("/var/lib/dkms/mok.pub")};
	assert_int_equal(mok_check(rfd, &t, getuid(), &e), -ACSO_E_UNSUPPORTED);
	/* ... while DKMS's own kind, with no key usage at all, is fine */
	assert_int_equal(sh("cd '%s/var/lib/dkms' && openssl req -new -x509 -key mok.key -outform DER -out mok.pub "
			    "-days 1 -subj '/CN=DKMS module signing key' 2>/dev/null", root), 0);
	assert_int_equal(mok_check(rfd, &t, getuid(), &e), 0);
	/* not a certificate */
	assert_int_equal(sh("echo garbage >'%s/var/lib/dkms/mok.pub'", root), 0);
	assert_int_equal(mok_check(rfd, &t, getuid(), &e), -ACSO_E_PARSE);
	mok_free(&t);
	close(rfd);
	assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
}

static void test_is_pe(void **state)
{
	unsigned char b[0x100] = {'M', 'Z'};
	b[0x3c] = 0x80;
	memcpy(b + 0x80, "PE\0\0", 4);
	assert_true(sign_is_pe(b, sizeof(b)));
	b[0x3c] = 0xfe; /* the PE header past the end */
	assert_false(sign_is_pe(b, sizeof(b)));
	b[0x3c] = 0x80;
	b[0] = 0x4d ^ 1;
	assert_false(sign_is_pe(b, sizeof(b)));
	assert_false(sign_is_pe(b, 10));
}

static void test_sign(void **state)
{
	_cleanup_free_ char *root = mkroot();
	int rfd = root_open_dir(root);
	struct acso_err e = {0};
	make_pe(root, "6.1.192-acso");
	struct mok m = new_mok(rfd, "/var/lib/dkms/mok.key", "/var/lib/dkms/mok.pub");
	assert_int_equal(mok_check(rfd, &m, getuid(), &e), 0);
	_cleanup_free_ char *img = path_join(root, "boot/vmlinuz-6.1.192-acso");
	_cleanup_free_ char *pem = path_join(root, "cert.pem");
	assert_int_equal(sh("openssl x509 -inform DER -in '%s/var/lib/dkms/mok.pub' -out '%s'", root, pem), 0);
	assert_int_not_equal(sh("sbverify --cert '%s' '%s' >/dev/null 2>&1", pem, img), 0);
	struct stat before, after;
	assert_int_equal(stat(img, &before), 0);

	/* dry run: checked, not changed */
	enum sign_outcome o;
	assert_int_equal(sign_image(rfd, "/boot/vmlinuz-6.1.192-acso", &m, true, &o, &e), 0);
	assert_int_equal(o, SIGN_DONE);
	assert_int_equal(stat(img, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);

	/* a write limit (a full /boot): sbsign fails, the original stays, no temp left */
	struct rlimit old, lim = {.rlim_cur = 2500, .rlim_max = RLIM_INFINITY};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = sign_image(rfd, "/boot/vmlinuz-6.1.192-acso", &m, false, &o, &e);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -ACSO_E_CHILD);
	assert_int_equal(stat(img, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(sh("ls -A '%s/boot' | grep -q acso-tmp", root) == 0, 0);

	/* signed: replaced by rename, sbverify accepts it, mode kept */
	assert_int_equal(sign_image(rfd, "/boot/vmlinuz-6.1.192-acso", &m, false, &o, &e), 0);
	assert_int_equal(o, SIGN_DONE);
	assert_int_equal(sh("sbverify --cert '%s' '%s' >/dev/null 2>&1", pem, img), 0);
	assert_int_equal(stat(img, &after), 0);
	assert_int_not_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mode, after.st_mode);
	/* a second run leaves it alone */
	struct stat again;
	assert_int_equal(sign_image(rfd, "/boot/vmlinuz-6.1.192-acso", &m, false, &o, &e), 0);
	assert_int_equal(o, SIGN_ALREADY);
	assert_int_equal(stat(img, &again), 0);
	assert_int_equal(again.st_ino, after.st_ino);

	/* not a PE image (a kernel without the EFI stub), no image, a symlink */
	assert_int_equal(sh("head -c 4096 /dev/zero >'%s/boot/vmlinuz-bios'", root), 0);
	assert_int_equal(sign_image(rfd, "/boot/vmlinuz-bios", &m, false, &o, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "CONFIG_EFI_STUB"));
	assert_int_equal(sign_image(rfd, "/boot/vmlinuz-none", &m, false, &o, &e), -ENOENT);
	assert_int_equal(sh("ln -s vmlinuz-6.1.192-acso '%s/boot/vmlinuz'", root), 0);
	assert_true(sign_image(rfd, "/boot/vmlinuz", &m, false, &o, &e) < 0);
	mok_free(&m);
	close(rfd);
	assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
}

static void test_secureboot(void **state)
{
	const unsigned char on[] = {6, 0, 0, 0, 1}, off[] = {6, 0, 0, 0, 0}, odd[] = {6, 0, 0, 0, 7};
	assert_int_equal(sb_parse_efivar(on, 5), TRI_YES);
	assert_int_equal(sb_parse_efivar(off, 5), TRI_NO);
	assert_int_equal(sb_parse_efivar(odd, 5), TRI_UNKNOWN);
	assert_int_equal(sb_parse_efivar(on, 4), TRI_UNKNOWN);
	char ld[16];
	assert_int_equal(sb_parse_lockdown("none [integrity] confidentiality\n", ld, sizeof(ld)), 0);
	assert_string_equal(ld, "integrity");
	assert_int_equal(sb_parse_lockdown("none integrity", ld, sizeof(ld)), -EINVAL);
	assert_int_equal(sb_parse_lockdown("[]", ld, sizeof(ld)), -EINVAL);
	enum tri setup;
	assert_int_equal(sb_parse_mokutil("SecureBoot enabled\n", &setup), TRI_YES);
	assert_int_equal(sb_parse_mokutil("SecureBoot disabled\nPlatform is in Setup Mode\n", &setup), TRI_NO);
	assert_int_equal(setup, TRI_YES);
	assert_int_equal(sb_parse_mokutil("SecureBoot enabled\nSecureBoot validation is disabled in shim\n", NULL), TRI_NO);
	assert_int_equal(sb_parse_mokutil("EFI variables are not supported on this system\n", NULL), TRI_UNKNOWN);

	/* a root with efivarfs */
	_cleanup_free_ char *root = mkroot();
	assert_int_equal(sh("d='%s/sys/firmware/efi/efivars'; mkdir -p \"$d\" '%s/sys/kernel/security';"
			    "printf '\\006\\000\\000\\000\\001' >\"$d/SecureBoot-" EFI_GLOBAL_GUID "\";"
			    "printf '\\006\\000\\000\\000\\000' >\"$d/SetupMode-" EFI_GLOBAL_GUID "\";"
			    "echo 'none [integrity] confidentiality' >'%s/sys/kernel/security/lockdown'", root, root, root), 0);
	int rfd = root_open_dir(root);
	struct sb_state s;
	sb_read(rfd, false, &s);
	assert_int_equal(s.efi, TRI_YES);
	assert_int_equal(s.secure_boot, TRI_YES);
	assert_int_equal(s.setup_mode, TRI_NO);
	assert_string_equal(s.lockdown, "integrity");
	assert_string_equal(s.source, "efivars");
	close(rfd);
	assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
	/* no /sys/firmware/efi: a BIOS boot, no Secure Boot */
	_cleanup_free_ char *bios = mkroot();
	rfd = root_open_dir(bios);
	sb_read(rfd, false, &s);
	assert_int_equal(s.efi, TRI_NO);
	assert_int_equal(s.secure_boot, TRI_NO);
	close(rfd);
	assert_int_equal(rm_rf_at(AT_FDCWD, bios), 0);
}

/* mokutil --test-key's words (mokutil 0.6's test_key()), the release
 * names acso sign takes, and the kernel hook written once. */
static void test_enrol_release_hook(void **state)
{
	assert_int_equal(mok_parse_test_key("/var/lib/dkms/mok.pub is already enrolled\n"), MOK_ENROLLED);
	assert_int_equal(mok_parse_test_key("/var/lib/dkms/mok.pub is already in db\n"), MOK_ENROLLED);
	assert_int_equal(mok_parse_test_key("/var/lib/dkms/mok.pub is already in the enrollment request\n"), MOK_PENDING);
	assert_int_equal(mok_parse_test_key("/var/lib/dkms/mok.pub is not enrolled\n"), MOK_NOT_ENROLLED);
	assert_int_equal(mok_parse_test_key("/var/lib/dkms/mok.pub is blocked in dbx\n"), MOK_BLOCKED);
	assert_int_equal(mok_parse_test_key("EFI variables are not supported on this system\n"), MOK_ENROL_UNKNOWN);
	assert_int_equal(mok_parse_test_key(NULL), MOK_ENROL_UNKNOWN);
	assert_true(sign_release_ok("6.1.192-acso"));
	assert_true(sign_release_ok("6.8.0-rc3+"));
	assert_false(sign_release_ok(""));
	assert_false(sign_release_ok(".."));
	assert_false(sign_release_ok("../../etc/passwd"));
	assert_false(sign_release_ok("6.1 x"));
	assert_false(sign_release_ok(NULL));

	_cleanup_free_ char *root = mkroot();
	int rfd = root_open_dir(root);
	struct acso_err e = {0};
	assert_int_equal(sign_hook_install(rfd, true, &e), 1);
	_cleanup_free_ char *hook = path_join(root, "etc/kernel/postinst.d/zz-acso-sign");
	assert_int_not_equal(access(hook, F_OK), 0); /* dry run: nothing written */
	assert_int_equal(sign_hook_install(rfd, false, &e), 1);
	struct stat st;
	assert_int_equal(stat(hook, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(sign_hook_install(rfd, false, &e), 0);
	assert_int_equal(sign_hook_install(rfd, true, &e), 0);
	/* the hook: acso's releases only; a stub acso on PATH records its argv */
	_cleanup_free_ char *bin = path_join(root, "bin");
	_cleanup_free_ char *stub = path_join(root, "bin/acso");
	_cleanup_free_ char *body = xasprintf("#!/bin/sh\necho \"$*\" >>%s/argv\n", root);
	assert_int_equal(mkdir(bin, 0755), 0);
	assert_true(write_file_atomic(AT_FDCWD, stub, body, strlen(body), 0755, WRITE_NOSYNC) >= 0);
	assert_int_equal(sh("cd '%s' && PATH=%s:$PATH sh '%s' 6.1.192-acso /boot/vmlinuz-6.1.192-acso &&"
			    "PATH=%s:$PATH sh '%s' 6.1.0-13-amd64 /boot/vmlinuz-6.1.0-13-amd64 &&"
			    "test \"$(cat argv)\" = 'sign 6.1.192-acso'", root, bin, hook, bin, hook), 0);
	close(rfd);
	assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_and_check),
		cmocka_unit_test(test_is_pe),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_secureboot),
		cmocka_unit_test(test_enrol_release_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
