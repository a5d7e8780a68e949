/* Unit tests for state.c (the run record: load, save, garbage, listing) and
 * virtpkgs.c (package names per release, dpkg status). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "run/state.h"
#include "base/util.h"
#include "machine/virtpkgs.h"

static void test_state(void **state)
{
	char tmpl[] = "/tmp/acso-unit-run.XXXXXX";
	char *w = mkdtemp(tmpl);
	assert_non_null(w);
	assert_true(state_target_valid("auto"));
	assert_true(state_target_valid("6.1.192-acso+1"));
	assert_false(state_target_valid(""));
	assert_false(state_target_valid(".hidden"));
	assert_false(state_target_valid("a/b"));
	assert_false(state_target_valid(NULL));
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(state_target_valid(long_name));

	struct strv t = {0};
	assert_int_equal(state_list(w, &t), 0);
	bool garbage = true;
	struct json_object *st = state_load(w, "auto", &garbage);
	assert_false(garbage);
	struct json_object *steps = NULL;
	assert_true(json_object_object_get_ex(st, "steps", &steps));
	json_object_object_add(steps, "fetch", json_object_new_object());
	struct acso_err e = {0};
	assert_int_equal(state_save(w, "auto", st, &e), 0);
	json_object_put(st);
	st = state_load(w, "auto", &garbage);
	assert_false(garbage);
	assert_true(json_object_object_get_ex(st, "steps", &steps));
	assert_true(json_object_object_get_ex(steps, "fetch", NULL));
	json_object_put(st);
	assert_int_equal(state_list(w, &t), 1);
	assert_string_equal(t.v[0], "auto");
	strv_free(&t);

	/* garbage, trailing bytes, wrong shape: moved aside, fresh state */
	static const char *const bad[] = {"garbage{", "{\"steps\":{}} trailing", "{\"steps\":[]}", "[]", "",
					    "{\"steps\":{\"fetch\":[]}}", "{\"steps\":{\"fetch\":\"done\"}}"};
	_cleanup_free_ char *path = state_path(w, "auto");
	_cleanup_free_ char *badp = xasprintf("%s.bad", path);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(write_file_atomic(AT_FDCWD, path, bad[i], strlen(bad[i]), 0644, WRITE_NOSYNC) >= 0);
		st = state_load(w, "auto", &garbage);
		assert_true(garbage);
		assert_true(json_object_object_get_ex(st, "steps", &steps));
		assert_int_equal(json_object_object_length(steps), 0);
		json_object_put(st);
		assert_int_equal(access(badp, F_OK), 0);
		assert_int_equal(access(path, F_OK), -1);
	}
	/* the shape check alone, for readers that must not move the file */
	struct json_object *arr = json_tokener_parse("{\"steps\":[]}");
	assert_false(state_shape_ok(arr));
	assert_false(state_shape_ok(NULL));
	json_object_put(arr);
	arr = json_tokener_parse("{\"steps\":{\"fetch\":{\"state\":\"done\"}}}");
	assert_true(state_shape_ok(arr));
	json_object_put(arr);
	/* a state dir that cannot be created */
	_cleanup_free_ char *file = path_join(w, "plainfile");
	assert_true(write_file_atomic(AT_FDCWD, file, "x", 1, 0644, WRITE_NOSYNC) >= 0);
	st = state_load(file, "auto", &garbage);
	assert_int_not_equal(state_save(file, "auto", st, &e), 0);
	json_object_put(st);
	rm_rf_at(AT_FDCWD, w);
}

static void test_virt_packages(void **state)
{
	struct strv p = {0};
	char *d = NULL;
	assert_int_equal(virt_packages("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n", &p, &d), 0);
	assert_string_equal(d, "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(p.v[0], "qemu-system-x86");
	assert_string_equal(p.v[1], "libvirt-daemon-system");
	strv_free(&p);
	free(d);
	assert_int_equal(virt_packages("ID=ubuntu\nVERSION_ID=\"18.04\"\n", &p, &d), 0);
	assert_string_equal(p.v[1], "libvirt-bin");
	strv_free(&p);
	free(d);
	assert_int_equal(virt_packages("ID=ubuntu\nVERSION_ID=\"18.10\"\n", &p, &d), 0);
	assert_string_equal(p.v[1], "libvirt-daemon-system");
	strv_free(&p);
	free(d);
	assert_int_equal(virt_packages("ID=pop\nID_LIKE=\"ubuntu debian\"\nUBUNTU_CODENAME=jammy\n", &p, &d), 0);
	assert_string_equal(p.v[0], "qemu-kvm");
	assert_string_equal(p.v[2], "libvirt-clients");
	strv_free(&p);
	free(d);
	assert_int_equal(virt_packages("ID=linuxmint\nID_LIKE=ubuntu\nUBUNTU_CODENAME=bionic\n", &p, &d), 0);
	assert_string_equal(p.v[1], "libvirt-bin");
	strv_free(&p);
	free(d);
	assert_int_equal(virt_packages("ID=fedora\nVERSION_ID=40\n", &p, &d), -ACSO_E_UNSUPPORTED);
	free(d);
	assert_int_equal(virt_packages("", &p, &d), -ACSO_E_UNSUPPORTED);
	assert_string_equal(d, "unknown");
	free(d);
	assert_int_equal(p.n, 0);

	char *v = osrelease_get("A=1\nID='x y'\n", "ID");
	assert_string_equal(v, "x y");
	free(v);
	assert_null(osrelease_get("IDX=1\n", "ID"));

	static const char status[] =
		"Package: qemu-kvm\nStatus: install ok installed\n\n"
		"Package: bridge-utils\nStatus: deinstall ok config-files\n\n"
		"Package: libvirt-clients-extra\nStatus: install ok installed\n";
	assert_true(dpkg_installed(status, "qemu-kvm"));
	assert_false(dpkg_installed(status, "bridge-utils"));
	assert_false(dpkg_installed(status, "libvirt-clients"));
	assert_false(dpkg_installed("", "qemu-kvm"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_virt_packages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
