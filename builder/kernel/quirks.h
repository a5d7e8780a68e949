/* quirks.h — place the ACS override in a kernel tree by meaning.
 *
 * A small C-aware scanner (comments, strings, character constants,
 * preprocessor lines, braces) finds the definition of pci_dev_acs_enabled[]
 * by its declaration; the override's entry goes just before THAT table's
 * { 0 } terminator, its code before the table, with the callback signature
 * the tree declares; the documentation entry goes in its alphabetical place
 * in kernel-parameters.txt. Pure text in, text out: the caller writes.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct acso_err;

/* The fragments of patches/acs-override/ and where they go (its
 * `placement` file). */
struct quirks_fragments {
	char *marker;        /* "pcie_acs_override": a tree with it is patched */
	char *code;          /* before-table fragment, with @ACS_RET@ / @ACS_FLAGS_TYPE@ */
	char *entry;         /* table-end fragment (one line, no indentation) */
	char *doc;           /* param-entry fragment */
	char *code_file;     /* "drivers/pci/quirks.c" */
	char *doc_file;      /* "Documentation/admin-guide/kernel-parameters.txt" */
	char *table;         /* "pci_dev_acs_enabled" */
	char *doc_param;     /* "pcie_acs_override": the entry's name */
};

/* Load dir/placement and the fragments it names. */
int quirks_load_fragments(const char *dir, struct quirks_fragments *f, struct acso_err *e);
void quirks_fragments_free(struct quirks_fragments *f);
/* Trees before 4.10 keep the parameter documentation in
 * Documentation/kernel-parameters.txt, not admin-guide/: when the tree at
 * treefd has only the old file, f->doc_file names it. */
#define QUIRKS_OLD_DOC_FILE "Documentation/kernel-parameters.txt"
void quirks_locate_doc(struct quirks_fragments *f, int treefd);

/* Where a table is, as found by the scanner (byte offsets into the text). */
struct quirks_table {
	size_t decl;         /* start of the declaration statement */
	size_t open, close;  /* its initializer's { and } */
	size_t term;         /* the terminator's { */
	size_t entries;      /* initializer entries, the terminator included */
	size_t line;         /* 1-based line of the table's name */
	char *last_entry;    /* the entry before the terminator, tokens joined by spaces */
	char *ret_type;      /* callback return type ("int"), NULL if no callback member */
	char *flags_type;    /* callback's second parameter type ("u16") */
	char *callback;      /* the member as declared, normalised */
};

/* Find the definition NAME[] = { ... } at file scope. -ACSO_E_NOTFOUND when
 * there is none, -ACSO_E_PARSE when it has no { 0 } terminator or is not
 * closed; e names what was missing. */
int quirks_find_table(const char *text, size_t len, const char *name, struct quirks_table *t,
		      struct acso_err *e);
void quirks_table_free(struct quirks_table *t);

enum quirks_state {
	QUIRKS_PLACED,          /* the override was added */
	QUIRKS_ALREADY_ACSO,    /* an earlier acso run placed it (the doc entry is added if missing) */
	QUIRKS_ALREADY_OTHER,   /* the tree carries someone else's override */
};
enum quirks_doc {
	QDOC_PLACED, QDOC_PRESENT, QDOC_MISSING_FILE,
};

struct quirks_result {
	enum quirks_state state;
	enum quirks_doc doc;
	char *code;          /* new quirks.c text (NULL unless PLACED) */
	size_t code_len;
	char *doc_text;      /* new kernel-parameters.txt (NULL unless QDOC_PLACED) */
	size_t doc_len;
	size_t table_line;   /* of the table's name, in the new text */
	size_t entry_line;   /* of the added entry, in the new text */
	size_t code_line;    /* first line of the added code */
	size_t doc_line;     /* first line of the doc entry */
	char *callback;      /* the callback member as the tree declares it */
};

/* Place the override. doc may be NULL (a tree without Documentation/). */
int quirks_place(const struct quirks_fragments *f, const char *code, size_t code_len,
		 const char *doc, size_t doc_len, struct quirks_result *out, struct acso_err *e);
void quirks_result_free(struct quirks_result *r);

const char *quirks_state_name(enum quirks_state s);
const char *quirks_doc_name(enum quirks_doc d);
