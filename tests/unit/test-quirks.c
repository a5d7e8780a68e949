/* Unit tests for quirks.c: the scanner and placer on synthetic quirks.c
 * variants (decoy table first or last, names in comments and strings, no
 * table, no terminator, truncated, already patched by acso or by another
 * patch, callback signatures), the documentation entry, the fragments file;
 * and the override's own code, placed into a synthetic quirks.c, compiled
 * with cc and run: the parameter parser's edge cases (15, 16 and 17 ids,
 * bad hex, empty items) and the quirk's semantics. Also kpatch.c: the
 * patches loaded, applied all or nothing, the override placed on top. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "kernel/kpatch.h"
#include "kernel/quirks.h"
#include "base/spawn.h"
#include "base/util.h"
#include "unit-tmp.h"

#define FRAGS "patches/acs-override"

static const char acs_struct[] =
	"static const struct pci_dev_acs_enabled {\n"
	"\tu16 vendor;\n\tu16 device;\n"
	"\tint (*acs_enabled)(struct pci_dev *dev, u16 acs_flags);\n"
	"} pci_dev_acs_enabled[] = {\n"
	"\t{ PCI_VENDOR_ID_ATI, 0x4385, pci_quirk_amd_sb_acs },\n"
	"\t/* Wangxun nics */\n"
	"\t{ PCI_VENDOR_ID_WANGXUN, PCI_ANY_ID, pci_quirk_wangxun_nic_acs },\n"
	"\t{ 0 }\n};\n";

static const char decoy[] =
	"static const struct pci_dev_reset_methods pci_dev_reset_methods[] = {\n"
	"\t{ PCI_VENDOR_ID_INTEL, 0x0953, delay_250ms_after_flr },\n"
	"\t{ 0 }\n};\n";

static const char fn_before[] = "static int pci_quirk_wangxun_nic_acs(struct pci_dev *dev, u16 acs_flags)\n{\n\treturn false;\n}\n\n";

static struct quirks_fragments frags;

static int setup(void **state)
{
	struct acso_err e = {0};
	if (quirks_load_fragments(FRAGS, &frags, &e) < 0)
		fail_msg("fragments: %s", e.msg);
	return 0;
}

static int teardown(void **state)
{
	quirks_fragments_free(&frags);
	return 0;
}

static int place(const char *code, const char *doc, struct quirks_result *r, struct acso_err *e)
{
	return quirks_place(&frags, code, strlen(code), doc, doc ? strlen(doc) : 0, r, e);
}

/* The entry must be the last real entry of pci_dev_acs_enabled[] and
 * appear nowhere else. */
static void assert_placed_right(const char *text, size_t len)
{
	struct quirks_table t;
	struct acso_err e = {0};
	assert_int_equal(quirks_find_table(text, len, "pci_dev_acs_enabled", &t, &e), 0);
	assert_string_equal(t.last_entry, "{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides }");
	quirks_table_free(&t);
	struct quirks_table d;
	if (quirks_find_table(text, len, "pci_dev_reset_methods", &d, &e) == 0) {
		assert_string_not_equal(d.last_entry, "{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides }");
		/* and nothing was inserted between the decoy's braces */
		assert_null(memmem(text + d.open, d.close - d.open, "pcie_acs_overrides", 18));
		quirks_table_free(&d);
	}
	const char *first = strstr(text, "{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides }");
	assert_non_null(first);
	assert_null(strstr(first + 1, "{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides }"));
}

static void check_variant(const char *code)
{
	struct quirks_result r;
	struct acso_err e = {0};
	if (place(code, NULL, &r, &e) < 0)
		fail_msg("place: %s", e.msg);
	assert_int_equal(r.state, QUIRKS_PLACED);
	assert_placed_right(r.code, r.code_len);
	/* the code comes before the table */
	const char *fn = strstr(r.code, "static int pcie_acs_overrides(struct pci_dev *dev, u16 acs_flags)");
	assert_non_null(fn);
	assert_true(fn < strstr(r.code, "} pci_dev_acs_enabled[]"));
	assert_string_equal(r.callback, "int (*acs_enabled)(struct pci_dev *dev, u16 acs_flags)");
	/* a second run changes nothing */
	struct quirks_result r2;
	assert_int_equal(quirks_place(&frags, r.code, r.code_len, NULL, 0, &r2, &e), 0);
	assert_int_equal(r2.state, QUIRKS_ALREADY_ACSO);
	assert_null(r2.code);
	quirks_result_free(&r2);
	quirks_result_free(&r);
}

static void test_decoy_first_and_last(void **state)
{
	_cleanup_free_ char *first = xasprintf("%s\n%s%s", decoy, fn_before, acs_struct);
	_cleanup_free_ char *last = xasprintf("%s%s\n%s", fn_before, acs_struct, decoy);
	check_variant(first);
	check_variant(last);
}

static void test_names_in_comments_and_strings(void **state)
{
	_cleanup_free_ char *c = xasprintf(
		"/* pci_dev_acs_enabled[] = { { 0 } }; */\n"
		"// pci_dev_acs_enabled[] = {\n"
		"static const char *s = \"pci_dev_acs_enabled[] = { { 0 }\";\n"
		"static const char q = '{';\n"
		"#define BRACES { {\n"
		"#define MORE \\\n { 0 }\n"
		"%s%s\n%s", fn_before, acs_struct, decoy);
	check_variant(c);
}

static void test_separate_struct_and_signatures(void **state)
{
	struct quirks_result r;
	struct acso_err e = {0};
	/* struct declared apart, unnamed parameters, u32 flags */
	const char *c =
		"struct pci_dev_acs_enabled {\n\tu16 vendor, device;\n\tint (*acs_enabled)(struct pci_dev *, u32);\n};\n"
		"static int f(struct pci_dev *dev, u32 acs_flags) { return 0; }\n"
		"static const struct pci_dev_acs_enabled pci_dev_acs_enabled[] __initconst = {\n"
		"\t{ 1, 2, f }, { 0 } };\n";
	assert_int_equal(place(c, NULL, &r, &e), 0);
	assert_non_null(strstr(r.code, "static int pcie_acs_overrides(struct pci_dev *dev, u32 acs_flags)"));
	/* terminator not on its own line: inline insertion */
	assert_non_null(strstr(r.code, "{ 1, 2, f }, { PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides }, { 0 } };"));
	assert_string_equal(r.callback, "int (*acs_enabled)(struct pci_dev *, u32)");
	assert_placed_right(r.code, r.code_len);
	quirks_result_free(&r);

	/* unsigned int flags: "unsigned int" is the type, not "unsigned" + name */
	const char *c2 =
		"static const struct pci_dev_acs_enabled {\n\tint (*acs_enabled)(struct pci_dev *dev, unsigned int);\n"
		"} pci_dev_acs_enabled[] = {\n\t{ 0 }\n};\n";
	assert_int_equal(place(c2, NULL, &r, &e), 0);
	assert_non_null(strstr(r.code, "(struct pci_dev *dev, unsigned int acs_flags)"));
	quirks_result_free(&r);

	const char *bad_ret =
		"static const struct pci_dev_acs_enabled {\n\tbool (*acs_enabled)(struct pci_dev *dev, u16 f);\n"
		"} pci_dev_acs_enabled[] = {\n\t{ 0 }\n};\n";
	assert_int_equal(place(bad_ret, NULL, &r, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "does not return int"));
	const char *three =
		"static const struct pci_dev_acs_enabled {\n\tint (*acs_enabled)(struct pci_dev *dev, u16 f, int x);\n"
		"} pci_dev_acs_enabled[] = {\n\t{ 0 }\n};\n";
	assert_int_equal(place(three, NULL, &r, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "does not know this signature"));
	const char *nocb =
		"static const struct pci_dev_acs_enabled {\n\tu16 vendor;\n} pci_dev_acs_enabled[] = {\n\t{ 0 }\n};\n";
	assert_int_equal(place(nocb, NULL, &r, &e), -ACSO_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "acs_enabled callback"));
}

static void test_broken_trees(void **state)
{
	struct quirks_result r;
	struct acso_err e = {0};
	_cleanup_free_ char *missing = xasprintf("%s%s", fn_before, decoy);
	assert_int_equal(place(missing, NULL, &r, &e), -ACSO_E_NOTFOUND);
	assert_string_equal(e.msg, "no definition of the table 'pci_dev_acs_enabled[]'");

	/* only a use of the table, no definition */
	assert_int_equal(place("void f(void) { g(pci_dev_acs_enabled[0]); }\n", NULL, &r, &e), -ACSO_E_NOTFOUND);

	char *noterm = xstrdup(acs_struct);
	char *t = strstr(noterm, "\t{ 0 }\n");
	memmove(t, t + 7, strlen(t + 7) + 1);
	assert_int_equal(place(noterm, NULL, &r, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "does not end with a { 0 } terminator"));
	free(noterm);

	/* truncated in the middle of the table */
	char *trunc = xstrndup(acs_struct, (size_t)(strstr(acs_struct, "/* Wangxun") - acs_struct));
	assert_int_equal(place(trunc, NULL, &r, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "never closed"));
	free(trunc);

	/* an unterminated comment */
	_cleanup_free_ char *cm = xasprintf("%s/* oops\n", acs_struct);
	assert_int_equal(place(cm, NULL, &r, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "comment at line 11 is never closed"));

	/* defined twice (two #if branches): refuse to guess */
	_cleanup_free_ char *twice = xasprintf("%s%s", acs_struct, acs_struct);
	assert_int_equal(place(twice, NULL, &r, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "defined 2 times"));
}

static void test_already_patched(void **state)
{
	struct quirks_result r;
	struct acso_err e = {0};
	/* a vendor tree (another patch): early_param string present */
	_cleanup_free_ char *vendor = xasprintf("early_param(\"pcie_acs_override\", pcie_acs_override_setup);\n%s",
						 acs_struct);
	assert_int_equal(place(vendor, "\tpcie_acs_override=\n", &r, &e), 0);
	assert_int_equal(r.state, QUIRKS_ALREADY_OTHER);
	assert_int_equal(r.doc, QDOC_PRESENT);
	assert_null(r.code);
	assert_null(r.doc_text);
	quirks_result_free(&r);
}

static const char doc[] =
	"\tpci=option[,option...]\t[PCI] various PCI subsystem options.\n\t\tmore\n\n"
	"\tpcie_aspm=\t[PCIE] Forcibly enable or disable PCIe Active State Power\n\t\tManagement.\n\n"
	"\tpcie_ports=\t[PCIE] PCIe port services handling:\n\n"
	"\tzswap.enabled=\t[KNL]\n";

static void test_documentation(void **state)
{
	struct quirks_result r;
	struct acso_err e = {0};
	assert_int_equal(place(acs_struct, doc, &r, &e), 0);
	assert_int_equal(r.doc, QDOC_PLACED);
	const char *ours = strstr(r.doc_text, "\tpcie_acs_override=\n");
	const char *aspm = strstr(r.doc_text, "\tpcie_aspm=");
	assert_non_null(ours);
	assert_true(ours < aspm);
	assert_true(ours > strstr(r.doc_text, "\t\tmore\n"));
	assert_int_equal(r.doc_line, 4);
	/* everything else byte-identical */
	assert_int_equal(r.doc_len, strlen(doc) + strlen(frags.doc));
	assert_memory_equal(r.doc_text, doc, (size_t)(ours - r.doc_text));
	assert_string_equal(ours + strlen(frags.doc), doc + (ours - r.doc_text));
	quirks_result_free(&r);

	/* no Documentation/ in the tree: the code is placed, the doc skipped */
	assert_int_equal(place(acs_struct, NULL, &r, &e), 0);
	assert_int_equal(r.doc, QDOC_MISSING_FILE);
	quirks_result_free(&r);
	/* a doc file without entries acso recognises */
	assert_int_equal(place(acs_struct, "nothing here\n", &r, &e), -ACSO_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "no alphabetical place"));

	/* an earlier run placed the code and was cut off before the
	 * documentation: the code stays, the entry is added */
	struct quirks_result first, again;
	assert_int_equal(place(acs_struct, doc, &first, &e), 0);
	assert_int_equal(quirks_place(&frags, first.code, first.code_len, doc, strlen(doc), &again, &e), 0);
	assert_int_equal(again.state, QUIRKS_ALREADY_ACSO);
	assert_null(again.code);
	assert_int_equal(again.doc, QDOC_PLACED);
	assert_int_equal(again.doc_line, 4);
	assert_string_equal(again.doc_text, first.doc_text);
	quirks_result_free(&again);
	/* and once both are there, nothing is left to do */
	assert_int_equal(quirks_place(&frags, first.code, first.code_len, first.doc_text, first.doc_len, &again, &e), 0);
	assert_int_equal(again.state, QUIRKS_ALREADY_ACSO);
	assert_int_equal(again.doc, QDOC_PRESENT);
	assert_null(again.doc_text);
	quirks_result_free(&again);
	quirks_result_free(&first);
}

/* Trees before 4.10 keep the entries in Documentation/kernel-parameters.txt
 * (the same tab layout): the entry goes there when only that file exists. */
static void test_old_doc_location(void **state)
{
	char tmpl[] = "/tmp/acso-unit-olddoc.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	int fd = open(tmpl, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(mkdir_p_at(fd, "Documentation/admin-guide", 0755), 0);
	quirks_locate_doc(&frags, fd); /* neither file: the fragments' own name stays */
	assert_string_equal(frags.doc_file, "Documentation/admin-guide/kernel-parameters.txt");
	assert_true(write_file_atomic(fd, QUIRKS_OLD_DOC_FILE, doc, strlen(doc), 0644, WRITE_NOSYNC) >= 0);
	quirks_locate_doc(&frags, fd); /* 4.9: only the old file */
	assert_string_equal(frags.doc_file, QUIRKS_OLD_DOC_FILE);
	free(frags.doc_file);
	frags.doc_file = xstrdup("Documentation/admin-guide/kernel-parameters.txt");
	assert_true(write_file_atomic(fd, frags.doc_file, doc, strlen(doc), 0644, WRITE_NOSYNC) >= 0);
	quirks_locate_doc(&frags, fd); /* 4.10 on: the admin-guide file wins */
	assert_string_equal(frags.doc_file, "Documentation/admin-guide/kernel-parameters.txt");
	close(fd);
	assert_int_equal(rm_rf_at(AT_FDCWD, tmpl), 0);
}

static void test_fragments_file(void **state)
{
	char tmpl[] = "/tmp/acso-frag.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	struct quirks_fragments f;
	struct acso_err e = {0};
	assert_int_equal(quirks_load_fragments(tmpl, &f, &e), -ENOENT);
	_cleanup_free_ char *p = path_join(tmpl, "placement");
	const char *bad = "marker x\nfragment a.c drivers/pci/quirks.c somewhere\n";
	assert_int_equal(write_file_atomic(AT_FDCWD, p, bad, strlen(bad), 0644, WRITE_NOSYNC), 1);
	assert_int_equal(quirks_load_fragments(tmpl, &f, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "unknown place 'somewhere'"));
	const char *esc = "marker x\nfragment ../x.c drivers/pci/quirks.c before-table:t\n";
	assert_int_equal(write_file_atomic(AT_FDCWD, p, esc, strlen(esc), 0644, WRITE_NOSYNC), 1);
	assert_int_equal(quirks_load_fragments(tmpl, &f, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "not a plain file name"));
	const char *partial = "marker x\n";
	assert_int_equal(write_file_atomic(AT_FDCWD, p, partial, strlen(partial), 0644, WRITE_NOSYNC), 1);
	assert_int_equal(quirks_load_fragments(tmpl, &f, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "needs a marker"));
	rm_rf_at(AT_FDCWD, tmpl);
}

/* ---- the override's own code, compiled and run ---- */

static char *harness;

static int build_harness(void **state)
{
	setup(state);
	char tmpl[] = "/tmp/acso-harness.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char shim[PATH_MAX], mainh[PATH_MAX];
	assert_non_null(realpath("tests/unit/harness/acs-shim.h", shim));
	assert_non_null(realpath("tests/unit/harness/acs-main.h", mainh));
	_cleanup_free_ char *src = xasprintf(
		"#include \"%s\"\n\n"
		"static const struct pci_dev_acs_enabled {\n\tu16 vendor;\n\tu16 device;\n"
		"\tint (*acs_enabled)(struct pci_dev *dev, u16 acs_flags);\n"
		"} pci_dev_acs_enabled[] = {\n\t{ 0x1234, 0x5678, other_quirk },\n\t{ 0 }\n};\n"
		"#include \"%s\"\n", shim, mainh);
	struct quirks_result r;
	struct acso_err e = {0};
	if (place(src, NULL, &r, &e) < 0)
		fail_msg("place: %s", e.msg);
	_cleanup_free_ char *c = path_join(tmpl, "quirks.c");
	assert_int_equal(write_file_atomic(AT_FDCWD, c, r.code, r.code_len, 0644, WRITE_NOSYNC), 1);
	quirks_result_free(&r);
	harness = path_join(tmpl, "harness");
	const char *argv[] = {"cc", "-std=gnu11", "-Wall", "-Werror", "-Wno-unused-function", "-o", harness, c, NULL};
	struct spawn_opts o = {.log_fd = 2};
	if (spawn_check(argv, &o, &e) < 0)
		fail_msg("compile the placed override: %s", e.msg);
	return 0;
}

static int drop_harness(void **state)
{
	_cleanup_free_ char *dir = xstrdup(harness);
	*strrchr(dir, '/') = 0;
	rm_rf_at(AT_FDCWD, dir);
	free(harness);
	return teardown(state);
}

static char *run_harness(const char *param, const char *const *devs)
{
	struct strv argv = {0};
	strv_push(&argv, harness);
	strv_push(&argv, param);
	for (; devs && *devs; devs++)
		strv_push(&argv, *devs);
	struct buf out = {0};
	struct spawn_opts o = {.capture = &out, .log_fd = -1};
	struct acso_err e = {0};
	if (spawn_check((const char *const *)argv.v, &o, &e) < 0)
		fail_msg("harness: %s", e.msg);
	strv_free(&argv);
	char *text = xstrdup(buf_str(&out));
	buf_free(&out);
	return text;
}

static const char warning[] =
	"warn: Warning: PCIe ACS overrides enabled; This may allow non-IOMMU protected peer-to-peer DMA\n";

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_param_basic(void **state)
{
	char *o = run_harness("downstream", NULL);
	assert_non_null(strstr(o, "downstream=1 multifunction=0 ids=0\n"));
	assert_int_equal(count(o, warning), 1);
	free(o);
	o = run_harness("multifunction,downstream,id:10de:1E04", NULL);
	assert_non_null(strstr(o, "downstream=1 multifunction=1 ids=1\nid 10de:1e04\n"));
	assert_int_equal(count(o, warning), 1);
	free(o);
	/* nothing asked, nothing said */
	o = run_harness("", NULL);
	assert_string_equal(o, "downstream=0 multifunction=0 ids=0\n");
	free(o);
	o = run_harness("-", NULL);
	assert_string_equal(o, "downstream=0 multifunction=0 ids=0\n");
	free(o);
}

static void test_param_empty_items(void **state)
{
	char *o = run_harness(",,downstream,,", NULL);
	assert_non_null(strstr(o, "downstream=1 multifunction=0 ids=0\n"));
	assert_null(strstr(o, "warn: PCIe"));
	free(o);
	o = run_harness("id:10de:1e04,", NULL);
	assert_non_null(strstr(o, "ids=1\n"));
	assert_null(strstr(o, "warn: PCIe"));
	free(o);
	o = run_harness(",", NULL);
	assert_string_equal(o, "downstream=0 multifunction=0 ids=0\n");
	free(o);
}

static void test_param_bad_ids(void **state)
{
	static const char *const bad[] = {
		"id:10dg:1e04", "id:10de:1e0", "id:10de:1e045", "id:0x10:1e04", "id:10de-1e04",
		"id:10de", "id:", "id::", "id:10de:", "id: 10d:1e04", "id:10de:1e04:",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *o = run_harness(bad[i], NULL);
		_cleanup_free_ char *want = xasprintf("warn: PCIe ACS ID parse error '%s' (expected id:vvvv:dddd)\n", bad[i]);
		if (!strstr(o, want) || !strstr(o, "ids=0\n") || strstr(o, "Warning:"))
			fail_msg("'%s' gave:\n%s", bad[i], o);
		free(o);
	}
	char *o = run_harness("id:ffff:1234,id:0000:0001,id:10de:1e04", NULL);
	assert_non_null(strstr(o, "warn: PCIe ACS invalid ID ffff:1234\n"));
	assert_non_null(strstr(o, "warn: PCIe ACS invalid ID 0000:0001\n"));
	assert_non_null(strstr(o, "ids=1\nid 10de:1e04\n"));
	free(o);
	o = run_harness("downstrem", NULL);
	assert_non_null(strstr(o, "warn: PCIe ACS unknown option 'downstrem'\n"));
	assert_null(strstr(o, "Warning:"));
	free(o);
}

static char *ids(int n)
{
	struct buf b = {0};
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%sid:10de:%04x", i ? "," : "", 0x1000 + i);
	buf_str(&b);
	return b.data;
}

static void test_param_id_slots(void **state)
{
	/* 15 and 16 ids all land, in order, with no warning; the 17th is
	 * refused loudly, not silently dropped or written past the end */
	for (int n = 15; n <= 17; n++) {
		_cleanup_free_ char *p = ids(n);
		char *o = run_harness(p, NULL);
		int kept = n > 16 ? 16 : n;
		_cleanup_free_ char *head = xasprintf("ids=%d\n", kept);
		assert_non_null(strstr(o, head));
		_cleanup_free_ char *lastid = xasprintf("id 10de:%04x\n", 0x1000 + kept - 1);
		assert_non_null(strstr(o, lastid));
		assert_int_equal(count(o, "\nid 10de:"), (size_t)kept);
		if (n == 17)
			assert_non_null(strstr(o, "warn: PCIe ACS too many IDs (at most 16), ignoring 10de:1010\n"));
		else
			assert_null(strstr(o, "too many"));
		free(o);
	}
}

static void test_quirk_semantics(void **state)
{
	static const char *const devs[] = {
		"8086:a110:rp", "8086:a110:rp:acs", "8086:a111:ds", "8086:a112:us",
		"10de:1e04:ep:mf", "10de:1e04:ep", "10de:10f7:ep", "10de:10f7:ep:conv",
		"1234:5678:ep", "1b36:000c:bridge:mf", NULL,
	};
	char *o = run_harness("downstream", devs);
	assert_non_null(strstr(o, "8086:a110:rp -> 1\n"));
	assert_non_null(strstr(o, "8086:a110:rp:acs -> -25\n")); /* a real ACS capability wins */
	assert_non_null(strstr(o, "8086:a111:ds -> 1\n"));
	assert_non_null(strstr(o, "8086:a112:us -> -25\n"));
	assert_non_null(strstr(o, "10de:1e04:ep:mf -> -25\n"));
	free(o);
	o = run_harness("multifunction", devs);
	assert_non_null(strstr(o, "8086:a110:rp -> -25\n"));
	assert_non_null(strstr(o, "10de:1e04:ep:mf -> 1\n"));
	assert_non_null(strstr(o, "10de:1e04:ep -> -25\n"));
	assert_non_null(strstr(o, "1b36:000c:bridge:mf -> -25\n"));
	free(o);
	o = run_harness("id:10de:10f7", devs);
	assert_non_null(strstr(o, "10de:10f7:ep -> 1\n"));
	assert_non_null(strstr(o, "10de:10f7:ep:conv -> -25\n")); /* conventional PCI never */
	assert_non_null(strstr(o, "10de:1e04:ep -> -25\n"));
	assert_non_null(strstr(o, "1234:5678:ep -> 0\n"));          /* the other quirk still answers */
	free(o);
	o = run_harness("-", devs);
	assert_non_null(strstr(o, "8086:a110:rp -> -25\n"));          /* patched, no parameter = stock */
	assert_non_null(strstr(o, "10de:1e04:ep:mf -> -25\n"));
	free(o);
}

static void test_kpatch_split_ref(void **state)
{
	char *ref, *w;
	w = kpatch_split_ref("/p/dir@v1.2", &ref);
	assert_string_equal(w, "/p/dir");
	assert_string_equal(ref, "v1.2");
	free(w);
	free(ref);
	w = kpatch_split_ref("https://h/r.git@main", &ref);
	assert_string_equal(w, "https://h/r.git");
	assert_string_equal(ref, "main");
	free(w);
	free(ref);
	/* an @ before the last '/', with a ':' after it, or at the end is no ref */
	static const char *const noref[] = {"ssh://git@host/r", "/a@b/c", "http://u@h:8080", "dir@"};
	for (size_t i = 0; i < ARRAY_SIZE(noref); i++) {
		w = kpatch_split_ref(noref[i], &ref);
		assert_string_equal(w, noref[i]);
		assert_null(ref);
		free(w);
	}
}

static char *kp_tree(void)
{
	char tmpl[] = "/tmp/acso-unit-kpatch.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	g_tmp = xstrdup(tmpl);
	char *k = path_join(tmpl, "k");
	const char *argv[] = {"cp", "-R", "tests/fixtures/kernel-mini", k, NULL};
	assert_int_equal(spawn_check(argv, &(struct spawn_opts){.log_fd = -1, .quiet = true}, NULL), 0);
	return k;
}

static void kp_put(const char *path, const char *text)
{
	assert_true(write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
}

static const char readme_patch[] = "--- /dev/null\n+++ b/README\n@@ -0,0 +1 @@\n+hello\n";
static const char bad_patch[] = "--- a/Makefile\n+++ b/Makefile\n@@ -1 +1 @@\n-no such line\n+x\n";

static void test_kpatch_prepare(void **state)
{
	_cleanup_free_ char *k = kp_tree();
	_cleanup_free_ char *top = xstrdup(k);
	*strrchr(top, '/') = '\0';
	_cleanup_free_ char *pdir = path_join(top, "pd");
	assert_int_equal(mkdir(pdir, 0755), 0);
	/* p1 creates README, each next one adds a line: they apply only in
	 * name order, whatever order the directory lists them in */
	for (int n = 6; n >= 1; n--) {
		struct buf t = {0};
		if (n == 1)
			buf_printf(&t, "%s", readme_patch);
		else
			buf_printf(&t, "--- a/README\n+++ b/README\n@@ -1,%d +1,%d @@\n", n - 1, n);
		for (int l = 1; n > 1 && l < n; l++)
			buf_printf(&t, " %s\n", l == 1 ? "hello" : "more");
		if (n > 1)
			buf_printf(&t, "+%s\n", n == 6 ? "world" : "more");
		_cleanup_free_ char *name = xasprintf("%s/p%d.patch", pdir, n);
		kp_put(name, buf_str(&t));
		buf_free(&t);
	}
	struct kpatch_source src[] = {{true, pdir}};
	struct kpatch_in in = {.src = k, .frag_dir = FRAGS, .work_dir = top, .sources = src, .nsources = 1};
	struct kpatch kp;
	struct acso_err e = {0};
	/* a directory's patches in name order, then the override on top */
	int r = kpatch_prepare(&in, &kp, &e);
	if (r < 0)
		print_error("%s\n", e.msg);
	assert_int_equal(r, 0);
	assert_int_equal(kp.stop, KP_DONE);
	assert_int_equal(kp.npatches, 6);
	assert_non_null(strstr(kp.patches[0].name, "/p1.patch"));
	assert_non_null(strstr(kp.patches[5].name, "/p6.patch"));
	assert_int_equal(kp.patches[1].d.files[0].hunks[0].at_line, 1);
	assert_int_equal(kp.qr.state, QUIRKS_PLACED);
	assert_true(strv_has(&kp.changed, "README"));
	assert_true(strv_has(&kp.changed, "drivers/pci/quirks.c"));
	assert_non_null(strstr(kp.diff.data, "+world"));
	/* nothing is written by prepare */
	_cleanup_free_ char *readme = path_join(k, "README");
	assert_int_equal(access(readme, F_OK), -1);
	kpatch_free(&kp);

	/* a patch that does not apply stops everything */
	_cleanup_free_ char *badp = path_join(top, "bad.patch");
	kp_put(badp, bad_patch);
	struct kpatch_source src2[] = {{true, pdir}, {false, badp}};
	in.sources = src2;
	in.nsources = 2;
	assert_true(kpatch_prepare(&in, &kp, &e) < 0);
	assert_int_equal(kp.stop, KP_APPLY);
	kpatch_free(&kp);
	/* an unreadable file names its source */
	struct kpatch_source src3[] = {{true, pdir}, {false, "/nonexistent/x.patch"}};
	in.sources = src3;
	assert_true(kpatch_prepare(&in, &kp, &e) < 0);
	assert_int_equal(kp.stop, KP_READ_FILE);
	assert_int_equal(kp.failed, 1);
	kpatch_free(&kp);
	/* @REF only for a git repository */
	_cleanup_free_ char *withref = xasprintf("%s@v1", pdir);
	struct kpatch_source src4[] = {{true, withref}};
	in.sources = src4;
	in.nsources = 1;
	assert_true(kpatch_prepare(&in, &kp, &e) < 0);
	assert_int_equal(kp.stop, KP_SOURCE);
	assert_non_null(strstr(e.msg, "is not a git repository"));
	kpatch_free(&kp);
	/* a patch that deletes quirks.c leaves no place for the override */
	_cleanup_free_ char *q = path_join(k, "drivers/pci/quirks.c");
	_cleanup_free_ char *qtext = NULL;
	assert_int_equal(read_file_at(AT_FDCWD, q, 1 << 24, &qtext, NULL), 0);
	struct buf del = {0};
	size_t lines = 0;
	for (const char *c = qtext; *c; c++)
		lines += *c == '\n';
	buf_printf(&del, "--- a/drivers/pci/quirks.c\n+++ /dev/null\n@@ -1,%zu +0,0 @@\n", lines);
	for (const char *c = qtext; *c;) {
		size_t n = strcspn(c, "\n");
		buf_printf(&del, "-%.*s\n", (int)n, c);
		c += n + (c[n] ? 1 : 0);
	}
	_cleanup_free_ char *delp = path_join(top, "del.patch");
	kp_put(delp, buf_str(&del));
	buf_free(&del);
	struct kpatch_source src5[] = {{false, delp}};
	in.sources = src5;
	assert_true(kpatch_prepare(&in, &kp, &e) < 0);
	assert_int_equal(kp.stop, KP_CODE_REMOVED);
	kpatch_free(&kp);
	/* not a kernel tree */
	in.src = pdir;
	in.nsources = 0;
	assert_true(kpatch_prepare(&in, &kp, &e) < 0);
	assert_int_equal(kp.stop, KP_NOT_KERNEL);
	kpatch_free(&kp);
	rm_rf_at(AT_FDCWD, top);
}

int main(void)
{
	const struct CMUnitTest placer[] = {
		cmocka_unit_test(test_decoy_first_and_last),
		cmocka_unit_test(test_names_in_comments_and_strings),
		cmocka_unit_test(test_separate_struct_and_signatures),
		cmocka_unit_test(test_broken_trees),
		cmocka_unit_test(test_already_patched),
		cmocka_unit_test(test_documentation),
		cmocka_unit_test(test_old_doc_location),
		cmocka_unit_test(test_fragments_file),
	};
	const struct CMUnitTest code[] = {
		cmocka_unit_test(test_param_basic),
		cmocka_unit_test(test_param_empty_items),
		cmocka_unit_test(test_param_bad_ids),
		cmocka_unit_test(test_param_id_slots),
		cmocka_unit_test(test_quirk_semantics),
		cmocka_unit_test(test_kpatch_split_ref),
		cmocka_unit_test_teardown(test_kpatch_prepare, rm_tmp),
	};
	int r = cmocka_run_group_tests_name("placer", placer, setup, teardown);
	return r | cmocka_run_group_tests_name("override-code", code, build_harness, drop_harness);
}
