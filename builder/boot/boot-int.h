/* boot-int.h — internals shared by the files of boot/ (grub-eval.c,
 * grub.c, grub-menu.c, bootmgr.c, rootfile.c). Not for other modules: use
 * grub.h, bootmgr.h, cmdline.h, params.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct acso_err;
struct grub_eval;

/* ---- what acso writes into the GRUB files (grub.c writes, grub-eval.c
 * recognises it to plan from the files without it) ---- */
#define BLOCK_BEGIN "# >>> acso boot parameters (`acso grub --remove` takes this block out)\n"
#define BLOCK_BEGIN_NL "# >>> acso boot parameters, newline added (`acso grub --remove` takes this block out)\n"
#define BLOCK_END "# <<< acso boot parameters\n"
#define DROPIN_HEAD "# Written by acso (`acso grub`); `acso grub --remove` deletes this file.\n"
/* In the drop-in when acso created grub.d: --remove takes the directory too. */
#define DROPIN_MADE_DIR "# acso created /etc/default/grub.d for this file.\n"

/* ---- grub-eval.c: the GRUB config files, as grub-mkconfig sources them ---- */
struct gfile {
	char *path;      /* root path */
	char *orig;      /* content now, NULL when absent */
	size_t orig_len;
	char *clean;     /* content without anything acso added, NULL: absent */
	size_t clean_len;
	char *cand;      /* planned content, NULL: absent */
	size_t cand_len;
	bool written;
};

struct gset {
	struct gfile *v;
	size_t n;
	bool foreign;    /* --root is not this system's /: evaluated in a sandbox */
};
/* /etc/default/grub, then grub.d/NAME.cfg in the C locale's glob order, plus
 * the slot of acso's drop-in; each file's content now and without acso's. */
int gset_load(struct gset *s, int rootfd, struct acso_err *e);
struct gfile *gset_find(struct gset *s, const char *path);
void gset_free(struct gset *s);
/* Evaluate the files' current, clean or planned contents (only
 * /etc/default/grub unless grubd) in a scratch tree. */
enum which { W_ORIG, W_CLEAN, W_CAND };
int eval_set(const struct gset *s, enum which w, bool grubd, struct grub_eval *ev, struct acso_err *e);

/* ---- rootfile.c: files under the root ---- */
/* Write (or, for NULL text, delete) one root path through its directory; a
 * missing directory is made with the file already in it. */
int put_file(int rootfd, const char *path, const char *text, size_t len, unsigned flags);
int put_file_in_new_dir(int rootfd, const char *dir, const char *base, const char *text, size_t len);
/* mkdir -p of a root path, each parent resolved inside the root. */
int root_mkdir_p(int rootfd, const char *path);
/* Contents that may be absent (NULL) and may hold NUL bytes. */
bool same_bytes(const char *a, size_t alen, const char *b, size_t blen);
void set_bytes(char **dst, size_t *dst_len, const char *src, size_t len);
/* Is NAME in ROOT's /usr/sbin, /usr/bin, /sbin or /bin? */
bool root_has_prog(int rootfd, const char *name);
