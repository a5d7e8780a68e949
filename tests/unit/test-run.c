/* Unit tests for state.c (the run record: load, save, garbage, listing),
 * plan.c (the steps, their arguments, resume, the attempt key, who runs
 * them) and virtpkgs.c (package names per release, dpkg status). */
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
#include "base/hash.h"
#include "machine/acssupport.h"
#include "run/plan.h"
#include "run/state.h"
#include "base/util.h"
#include "unit-tmp.h"
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

/* A state whose steps have these outputs (JSON texts), each "done". */
static struct json_object *state_with(const char *const *names, const char *const *outputs, size_t n)
{
	struct json_object *st = json_object_new_object(), *steps = json_object_new_object();
	json_object_object_add(st, "steps", steps);
	for (size_t i = 0; i < n; i++) {
		struct json_object *rec = json_object_new_object();
		json_object_object_add(rec, "state", json_object_new_string("done"));
		json_object_object_add(rec, "outputs", json_tokener_parse(outputs[i]));
		json_object_object_add(steps, names[i], rec);
	}
	return st;
}

static void test_plan_steps(void **state)
{
	size_t n;
	const struct run_step *s = run_steps(false, &n);
	assert_int_equal(n, 8);
	int b = run_find_step(s, n, "build");
	assert_true(b >= 0 && s[b].keyed && !s[b].privileged);
	assert_true(s[run_find_step(s, n, "install")].privileged);
	assert_true(run_find_step(s, n, "fetch") < run_find_step(s, n, "patch"));
	assert_int_equal(run_find_step(s, n, "prebuilt"), -1);
	s = run_steps(true, &n);
	assert_int_equal(n, 3);
	assert_int_equal(run_find_step(s, n, "prebuilt"), 1);
	assert_int_equal(run_find_step(s, n, "build"), -1);
}

static void test_plan_args(void **state)
{
	struct strv net = {0};
	strv_push(&net, "--mirror=http://m");
	struct run_plan_opts o = {.net = &net, .allow_root = true};
	struct strv a = {0};
	const char *why = NULL;
	struct json_object *st = state_with(NULL, NULL, 0);
	/* fetch needs resolve's target; the tree steps need fetch's tree */
	assert_int_equal(run_step_args(&o, st, false, "fetch", &a, &why), -1);
	assert_non_null(strstr(why, "resolve"));
	assert_int_equal(run_step_args(&o, st, false, "build", &a, &why), -1);
	assert_non_null(strstr(why, "source_dir"));
	json_object_put(st);
	strv_free(&a);
	static const char *const names[] = {"resolve", "fetch", "install"};
	static const char *const outs[] = {"{\"target\":\"6.1.192\"}", "{\"source_dir\":\"/w/src/linux\"}",
					   "{\"release\":\"6.1.192-acso\"}"};
	st = state_with(names, outs, 3);
	assert_int_equal(run_step_args(&o, st, false, "fetch", &a, &why), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "--mirror=http://m");
	assert_string_equal(a.v[1], "6.1.192");
	strv_free(&a);
	/* --allow-root reaches build only when the build does not drop to SUDO_USER */
	assert_int_equal(run_step_args(&o, st, false, "build", &a, &why), 0);
	assert_string_equal(a.v[0], "--source-dir=/w/src/linux");
	assert_true(strv_has(&a, "--allow-root"));
	strv_free(&a);
	assert_int_equal(run_step_args(&o, st, true, "build", &a, &why), 0);
	assert_false(strv_has(&a, "--allow-root"));
	strv_free(&a);
	/* Secure Boot on: the new kernel boots once, as with --once */
	o.secure_boot = true;
	assert_int_equal(run_step_args(&o, st, false, "grub", &a, &why), 0);
	assert_true(strv_has(&a, "--once=6.1.192-acso"));
	assert_true(strv_has(&a, "--set-default-saved"));
	strv_free(&a);
	o.secure_boot = false;
	assert_int_equal(run_step_args(&o, st, false, "grub", &a, &why), 0);
	assert_false(strv_has(&a, "--set-default-saved"));
	strv_free(&a);
	o.once = true;
	o.acs = "downstream";
	assert_int_equal(run_step_args(&o, st, false, "grub", &a, &why), 0);
	assert_string_equal(a.v[0], "--acs=downstream");
	assert_true(strv_has(&a, "--once=6.1.192-acso"));
	assert_true(strv_has(&a, "--set-default-saved"));
	strv_free(&a);
	/* the running kernel carries the override: no new kernel, no --once */
	o.register_only = true;
	assert_int_equal(run_step_args(&o, st, false, "grub", &a, &why), 0);
	assert_false(strv_has(&a, "--once=6.1.192-acso"));
	strv_free(&a);
	o.register_only = false;
	o.prebuilt = true; /* --once then needs the prebuilt step's release */
	assert_int_equal(run_step_args(&o, st, false, "grub", &a, &why), -1);
	strv_free(&a);
	o.prebuilt = o.once = false;
	/* run's own options reach their steps: --gpu --vfio (grub), --trim
	 * --set (config), --keyring (fetch) */
	struct strv set = {0}, kr = {0};
	strv_push(&set, "CONFIG_X=y");
	strv_push(&kr, "/k.asc");
	o.gpu = "01:00.0";
	o.vfio = o.trim = true;
	o.set = &set;
	o.keyring = &kr;
	assert_int_equal(run_step_args(&o, st, false, "grub", &a, &why), 0);
	assert_true(strv_has(&a, "--gpu=01:00.0"));
	assert_true(strv_has(&a, "--vfio"));
	strv_free(&a);
	assert_int_equal(run_step_args(&o, st, false, "config", &a, &why), 0);
	assert_true(strv_has(&a, "--trim"));
	assert_true(strv_has(&a, "--set=CONFIG_X=y"));
	strv_free(&a);
	assert_int_equal(run_step_args(&o, st, false, "fetch", &a, &why), 0);
	assert_true(strv_has(&a, "--keyring=/k.asc"));
	strv_free(&a);
	strv_free(&set);
	strv_free(&kr);
	json_object_put(st);
	/* the install step's MOK: the run stops before the reboot unless enrolled */
	static const char *const inst[] = {"install"};
	static const char *const sig[] = {"{\"release\":\"6.1.192-acso\",\"signed\":{\"mok_enrolled\":\"not enrolled\"}}"};
	o.prebuilt = false;
	st = state_with(inst, sig, 1);
	assert_null(run_mok_not_enrolled(&o, st)); /* Secure Boot off */
	o.secure_boot = true;
	assert_string_equal(run_mok_not_enrolled(&o, st), "not enrolled");
	json_object_put(st);
	static const char *const ok[] = {"{\"signed\":{\"mok_enrolled\":\"enrolled\"}}"};
	st = state_with(inst, ok, 1);
	assert_null(run_mok_not_enrolled(&o, st));
	json_object_put(st);
	strv_free(&net);
}

static void test_plan_decide(void **state)
{
	char tmpl[] = "/tmp/acso-unit-plan.XXXXXX";
	char *w = mkdtemp(tmpl);
	assert_non_null(w);
	g_tmp = xstrdup(w);
	size_t n;
	const struct run_step *s = run_steps(false, &n);
	int fetch = run_find_step(s, n, "fetch"), build = run_find_step(s, n, "build");
	_cleanup_free_ char *fetch_out = xasprintf("{\"source_dir\":\"%s\"}", w);
	const char *names[] = {"fetch", "build"};
	const char *outs[] = {fetch_out, "{\"manifest\":\"/nonexistent/manifest.json\",\"packages\":[{\"file\":\"a.deb\"}]}"};
	struct json_object *st = state_with(names, outs, 2);
	json_object_object_add(run_step_rec(st, "fetch"), "inputs", json_object_new_string("IN"));
	json_object_object_add(run_step_rec(st, "build"), "inputs", json_object_new_string("IN"));
	struct run_decision d;
	/* done, same inputs, its tree still there: skipped */
	run_decide(&s[fetch], (size_t)fetch, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_SKIP);
	assert_null(d.key);
	/* changed inputs, or --from at or before it: run again */
	run_decide(&s[fetch], (size_t)fetch, 0, false, -1, false, st, "OTHER", &d);
	assert_int_equal(d.action, RA_RUN);
	run_decide(&s[fetch], (size_t)fetch, fetch, true, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_RUN);
	assert_true(d.forced);
	run_decide(&s[fetch], (size_t)fetch, fetch + 1, true, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_SKIP);
	/* the tree is gone: run again */
	rmdir(w);
	run_decide(&s[fetch], (size_t)fetch, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_RUN);
	/* build's packages are not there: run again, with a key */
	run_decide(&s[build], (size_t)build, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_RUN);
	assert_non_null(d.key);
	free(d.key);
	/* --only build: the steps before it must be done, the others are left */
	run_decide(&s[0], 0, 0, false, build, false, st, "IN", &d);
	assert_int_equal(d.action, RA_BLOCKED);
	run_decide(&s[fetch], (size_t)fetch, 0, false, build, false, st, "IN", &d);
	assert_int_equal(d.action, RA_NOT_ONLY);
	run_decide(&s[build + 1], (size_t)build + 1, 0, false, build, false, st, "IN", &d);
	assert_int_equal(d.action, RA_NOT_ONLY);
	/* the running kernel carries the override: every step that makes or
	 * installs a kernel is not needed, the snapshot and boot steps run */
	for (size_t i = 0; i < n; i++) {
		run_decide(&s[i], i, 0, false, -1, true, st, "NEW", &d);
		bool maker = strcmp(s[i].name, "snapshot") && strcmp(s[i].name, "grub");
		assert_int_equal(d.action, maker ? RA_NOT_NEEDED : RA_RUN);
		free(d.key);
	}
	json_object_put(st);
}

static void test_plan_register_only(void **state)
{
	struct acs_support sup = {.supported = TRI_YES, .evidence = ACS_EV_KALLSYMS};
	snprintf(sup.source, sizeof(sup.source), "/proc/kallsyms");
	snprintf(sup.symbol, sizeof(sup.symbol), "pcie_acs_overrides");
	char why[256] = "";
	assert_true(run_register_only(&sup, false, why, sizeof(why)));
	assert_non_null(strstr(why, "/proc/kallsyms"));
	assert_non_null(strstr(why, "pcie_acs_overrides"));
	/* --build forces the build */
	assert_false(run_register_only(&sup, true, why, sizeof(why)));
	/* unknown or no: build (the flavour alone is never proof) */
	sup.supported = TRI_UNKNOWN;
	snprintf(sup.flavour, sizeof(sup.flavour), "pve");
	assert_false(run_register_only(&sup, false, why, sizeof(why)));
	sup.supported = TRI_NO;
	assert_false(run_register_only(&sup, false, why, sizeof(why)));
	sup.supported = TRI_YES;
	sup.evidence = ACS_EV_BOOT_LOG;
	snprintf(sup.source, sizeof(sup.source), "kernel log");
	assert_true(run_register_only(&sup, false, why, sizeof(why)));
	assert_non_null(strstr(why, "PCIe ACS overrides enabled"));
}

static void test_plan_key(void **state)
{
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "state", json_object_new_string("running"));
	json_object_object_add(rec, "inputs", json_object_new_string("IN"));
	json_object_object_add(rec, "reuse_key", json_object_new_string("K"));
	/* cut off running with the same inputs: the attempt goes on */
	char *k = run_attempt_key(rec, "IN", false);
	assert_string_equal(k, "K");
	free(k);
	/* forced, other inputs, or a finished record: a new attempt */
	k = run_attempt_key(rec, "IN", true);
	assert_string_not_equal(k, "K");
	assert_int_equal(strlen(k), 16);
	free(k);
	k = run_attempt_key(rec, "OTHER", false);
	assert_string_not_equal(k, "K");
	free(k);
	json_object_object_add(rec, "state", json_object_new_string("failed"));
	k = run_attempt_key(rec, "IN", false);
	assert_string_not_equal(k, "K");
	free(k);
	json_object_put(rec);
	char *d1 = run_digest(""), *d2 = run_digest("a");
	/* (the offset basis is one digit short of FNV's 14695981039346656037;
	 * recorded inputs depend on it, so it stays) */
	assert_string_equal(d1, "14650fb0739d0383");
	assert_string_not_equal(d1, d2);
	free(d1);
	free(d2);
	struct strv args = {0};
	strv_push(&args, "--x");
	char *i1 = run_inputs(&args, ""), *i2 = run_inputs(&args, "{}");
	assert_non_null(strstr(i1, "\"--x\""));
	assert_string_not_equal(i1, i2);
	free(i1);
	free(i2);
	strv_free(&args);
}

static void test_plan_privileges(void **state)
{
	struct run_privs p;
	/* sudo, a work dir of SUDO_USER's (or none yet): build steps drop */
	run_privileges(0, false, false, "1000", "1001", 1000, &p);
	assert_true(p.can_priv && p.drop && !p.not_owner);
	assert_int_equal(p.uid, 1000);
	assert_int_equal(p.gid, 1001);
	run_privileges(0, false, false, "1000", "1001", -1, &p);
	assert_true(p.drop);
	/* a work dir that is not SUDO_USER's: everything as root */
	run_privileges(0, false, false, "1000", "1001", 0, &p);
	assert_true(p.not_owner && !p.drop);
	/* plain root, sudo from root, a bad SUDO_UID: no drop */
	run_privileges(0, false, false, NULL, NULL, 0, &p);
	assert_true(p.can_priv && !p.drop);
	run_privileges(0, false, false, "0", "0", 0, &p);
	assert_false(p.drop);
	run_privileges(0, false, false, "10x", "0", 0, &p);
	assert_false(p.drop);
	/* a user: the privileged steps only into an image it may write */
	run_privileges(1000, false, true, "1000", "1000", 1000, &p);
	assert_false(p.can_priv || p.drop);
	run_privileges(1000, true, false, NULL, NULL, 1000, &p);
	assert_false(p.can_priv);
	run_privileges(1000, true, true, NULL, NULL, 1000, &p);
	assert_true(p.can_priv);
}

static void test_plan_record(void **state)
{
	assert_null(run_parse_report("[]", 2));
	assert_null(run_parse_report("", 0));
	assert_null(run_parse_report("{}\0{}", 5));
	struct json_object *rep = run_parse_report("{\"a\":1}", 7);
	assert_non_null(rep);
	struct json_object *st = state_with(NULL, NULL, 0);
	struct strv argv = {0};
	strv_push(&argv, "acso");
	struct json_object *rec = run_record_start(st, "fetch", "IN", "K", &argv, "/l");
	assert_ptr_equal(run_step_rec(st, "fetch"), rec);
	assert_string_equal(run_jstr(rec, "state"), "running");
	assert_string_equal(run_jstr(rec, "reuse_key"), "K");
	assert_false(run_step_done(st, "fetch"));
	run_record_end(rec, 1.26, rep, NULL);
	assert_true(run_step_done(st, "fetch"));
	assert_ptr_equal(run_outputs(st, "fetch"), rep);
	rec = run_record_start(st, "patch", "IN", NULL, &argv, "/l");
	assert_null(run_jstr(rec, "reuse_key"));
	run_record_end(rec, 0, NULL, "exited with status 2");
	assert_string_equal(run_jstr(rec, "state"), "failed");
	assert_string_equal(run_jstr(rec, "exit"), "exited with status 2");
	assert_false(run_step_done(st, "patch"));
	strv_free(&argv);
	json_object_put(st);
}


/* acso run --update: the build it starts from and its .config (kept beside
 * the packages, else the tree's when its SHA-256 is the build's), the
 * record that steers the resolve and config steps, the stale resolve. */
static void test_plan_update(void **state)
{
	char tmpl[] = "/tmp/acso-unit-update.XXXXXX";
	char *w = mkdtemp(tmpl);
	assert_non_null(w);
	g_tmp = xstrdup(w);
	unit_put(w, "build/6.1.191-acso/manifest.json", "{}");
	unit_put(w, "src/linux-6.1.191/.config", "CONFIG_A=y\n");
	char sha[HASH_HEX_MAX];
	hash_buf_hex("sha256", "CONFIG_A=y\n", 11, sha);
	_cleanup_free_ char *bout = xasprintf("{\"version\":\"6.1.191\",\"release\":\"6.1.191-acso\",\"manifest\":\"%s/build/6.1.191-acso/manifest.json\","
					      "\"source_dir\":\"%s/src/linux-6.1.191\",\"config_sha256\":\"%s\"}", w, w, sha);
	const char *names[] = {"resolve", "build"};
	const char *outs[] = {"{\"target\":\"6.1.191\"}", bout};
	struct json_object *st = state_with(names, outs, 2);
	struct run_update u;
	const char *why = NULL;
	/* no copy kept: the tree's .config, the one the build compiled */
	assert_int_equal(run_update_base(st, &u, &why), 0);
	assert_string_equal(u.series, "6.1");
	assert_string_equal(u.previous, "6.1.191");
	assert_string_equal(u.config_from, "the build's tree");
	assert_null(u.to);
	assert_int_equal(run_update_newer(&u, "6.1.192"), 1);
	assert_int_equal(run_update_newer(&u, "6.1.191"), 0);
	assert_int_equal(run_update_newer(&u, "garbage"), -1);
	run_update_free(&u);
	/* the tree reconfigured since: not the build's .config */
	unit_put(w, "src/linux-6.1.191/.config", "CONFIG_B=y\n");
	assert_int_equal(run_update_base(st, &u, &why), -1);
	assert_non_null(strstr(why, ".config the last build compiled is gone"));
	run_update_free(&u);
	/* the copy the build kept wins */
	unit_put(w, "build/6.1.191-acso/config", "CONFIG_A=y\n");
	assert_int_equal(run_update_base(st, &u, &why), 0);
	assert_string_equal(u.config_from, "kept by the build");
	_cleanup_free_ char *kept = xasprintf("%s/build/6.1.191-acso/config", w);
	assert_string_equal(u.config, kept);

	/* recorded: resolve follows the series, config starts from the .config
	 * with the choices its record was run with */
	struct run_plan_opts o = {0};
	json_object_object_add(run_step_rec(st, "build"), "inputs", json_object_new_string("IN"));
	struct json_object *cfg = json_object_new_object(), *argv = json_object_new_array();
	const char *was[] = {"acso", "--work-dir=/w", "config", "--json", "--source-dir=/old", "--base=running",
			     "--profile=qemu", "--trim", "--set=CONFIG_X=y"};
	for (size_t i = 0; i < ARRAY_SIZE(was); i++)
		json_object_array_add(argv, json_object_new_string(was[i]));
	json_object_object_add(cfg, "argv", argv);
	json_object_object_add(cfg, "state", json_object_new_string("done"));
	json_object_object_add(json_object_object_get(st, "steps"), "config", cfg);
	unit_put(w, "src/linux-6.1.192/Makefile", "");
	_cleanup_free_ char *fout = xasprintf("{\"source_dir\":\"%s/src/linux-6.1.192\"}", w);
	json_object_object_add(run_step_rec(st, "resolve"), "state", json_object_new_string("done"));
	struct json_object *fetch = json_object_new_object();
	json_object_object_add(fetch, "outputs", json_tokener_parse(fout));
	json_object_object_add(json_object_object_get(st, "steps"), "fetch", fetch);
	struct strv a = {0};
	/* no update yet: a plain run reuses the recorded choices */
	assert_int_equal(run_step_args(&o, st, false, "config", &a, &why), 0);
	_cleanup_free_ char *src = xasprintf("--source-dir=%s/src/linux-6.1.192", w);
	const char *want0[] = {src, "--base=running", "--profile=qemu", "--trim", "--set=CONFIG_X=y"};
	assert_int_equal(a.n, ARRAY_SIZE(want0));
	for (size_t i = 0; i < a.n; i++)
		assert_string_equal(a.v[i], want0[i]);
	strv_free(&a);
	run_update_record(st, &u, "6.1.192");
	assert_int_equal(run_step_args(&o, st, false, "resolve", &a, &why), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "--series");
	assert_string_equal(a.v[1], "6.1");
	strv_free(&a);
	assert_int_equal(run_step_args(&o, st, false, "config", &a, &why), 0);
	_cleanup_free_ char *base = xasprintf("--base=%s", kept);
	assert_string_equal(a.v[1], base);
	assert_string_equal(a.v[2], "--profile=qemu");
	strv_free(&a);
	/* an option given replaces the recorded choices; --base wins over the update */
	o.profile = "other";
	assert_int_equal(run_step_args(&o, st, false, "config", &a, &why), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[1], base);
	assert_string_equal(a.v[2], "--profile=other");
	strv_free(&a);
	o.base = "defconfig";
	assert_int_equal(run_step_args(&o, st, false, "config", &a, &why), 0);
	assert_string_equal(a.v[1], "--base=defconfig");
	strv_free(&a);
	/* the resolve step, done with the same inputs, runs again until it resolves the update's release */
	size_t n;
	const struct run_step *s = run_steps(false, &n);
	json_object_object_add(run_step_rec(st, "resolve"), "inputs", json_object_new_string("IN"));
	struct run_decision d;
	run_decide(&s[0], 0, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_RUN);
	json_object_object_add(run_step_rec(st, "resolve"), "outputs", json_tokener_parse("{\"target\":\"6.1.193\"}"));
	run_update_resolved(st);
	run_decide(&s[0], 0, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_SKIP);
	/* the build step not done: the update recorded is resumed */
	json_object_object_add(run_step_rec(st, "build"), "state", json_object_new_string("failed"));
	struct run_update r;
	assert_int_equal(run_update_base(st, &r, &why), 0);
	assert_string_equal(r.to, "6.1.193");
	assert_string_equal(r.previous, "6.1.191");
	assert_string_equal(r.config, kept);
	run_update_free(&r);
	run_update_free(&u);
	json_object_put(st);
	/* nothing built */
	st = state_with(names, outs, 1);
	assert_int_equal(run_update_base(st, &u, &why), -1);
	assert_string_equal(why, "no build of this target has finished");
	run_update_free(&u);
	json_object_put(st);
}

/* install is not done when the packages it installed are not the build's
 * (a rebuild whose snapshot report came out unchanged) */
static void test_plan_install_is_build(void **state)
{
	const char *names[] = {"build", "install"};
	const char *outs[] = {"{\"packages\":[{\"file\":\"a.deb\",\"sha256\":\"aa\"},{\"sha256\":\"dbg\"}]}",
			      "{\"packages\":[{\"sha256\":\"aa\"}]}"};
	struct json_object *st = state_with(names, outs, 2);
	json_object_object_add(run_step_rec(st, "install"), "inputs", json_object_new_string("IN"));
	size_t n;
	const struct run_step *s = run_steps(false, &n);
	int install = run_find_step(s, n, "install");
	struct run_decision d;
	run_decide(&s[install], (size_t)install, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_SKIP);
	json_object_object_add(run_step_rec(st, "build"), "outputs",
			       json_tokener_parse("{\"packages\":[{\"file\":\"a.deb\",\"sha256\":\"bb\"}]}"));
	run_decide(&s[install], (size_t)install, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_RUN);
	/* a report without hashes tells nothing */
	json_object_object_add(run_step_rec(st, "install"), "outputs", json_tokener_parse("{\"packages\":[{\"package\":\"p\"}]}"));
	run_decide(&s[install], (size_t)install, 0, false, -1, false, st, "IN", &d);
	assert_int_equal(d.action, RA_SKIP);
	json_object_put(st);
}

static void test_plan_ccache(void **state)
{
	const char *why = NULL;
	assert_true(run_ccache(false, -1, true, &why));
	assert_string_equal(why, "installed");
	assert_true(run_ccache(false, 1, true, &why));
	assert_false(run_ccache(true, 1, true, &why));
	assert_string_equal(why, "--no-ccache");
	assert_false(run_ccache(false, 0, true, &why));
	assert_string_equal(why, "config: ccache = no");
	assert_false(run_ccache(false, -1, false, &why));
	assert_string_equal(why, "ccache is not installed");
	/* the build step gets --ccache */
	struct run_plan_opts o = {.ccache = true};
	const char *names[] = {"fetch"};
	const char *outs[] = {"{\"source_dir\":\"/w/src/linux-6.1.192\"}"};
	struct json_object *st = state_with(names, outs, 1);
	struct strv a = {0};
	assert_int_equal(run_step_args(&o, st, false, "build", &a, &why), 0);
	assert_string_equal(a.v[a.n - 1], "--ccache");
	strv_free(&a);
	json_object_put(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_virt_packages),
		cmocka_unit_test(test_plan_steps),
		cmocka_unit_test(test_plan_args),
		cmocka_unit_test_teardown(test_plan_decide, rm_tmp),
		cmocka_unit_test(test_plan_key),
		cmocka_unit_test(test_plan_register_only),
		cmocka_unit_test(test_plan_privileges),
		cmocka_unit_test(test_plan_record),
		cmocka_unit_test_teardown(test_plan_update, rm_tmp),
		cmocka_unit_test(test_plan_install_is_build),
		cmocka_unit_test(test_plan_ccache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
