/* bootmgr.c — see bootmgr.h: the boot managers other than GRUB: which one
 * a root uses, systemd-boot's /etc/kernel/cmdline with an exact undo, and the
 * record of what acso gave kernelstub or grubby. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "boot/boot-int.h"
#include "boot/bootmgr.h"
#include "boot/cmdline.h"
#include "boot/grub.h"
#include "boot/proxmox.h"

/* ---- other boot managers -------------------------------------------------- */

bool bootmgr_sdboot_on_esp(int rootfd)
{
	/* What `bootctl is-installed` looks for, read below the root: the
	 * loader on an ESP at one of the usual mount points, or its entries. */
	static const char *const esps[] = {"/efi", "/boot/efi", "/boot"};
	static const char *const marks[] = {
		"EFI/systemd/systemd-bootx64.efi", "EFI/systemd/systemd-bootaa64.efi",
		"loader/entries", "loader/loader.conf",
	};
	for (size_t i = 0; i < ARRAY_SIZE(esps); i++)
		for (size_t j = 0; j < ARRAY_SIZE(marks); j++) {
			_cleanup_free_ char *p = xasprintf("%s/%s", esps[i], marks[j]);
			if (root_exists(rootfd, p) == 0)
				return true;
		}
	return false;
}

enum bootmgr bootmgr_detect(int rootfd)
{
	if (root_has_prog(rootfd, "kernelstub"))
		return BOOT_KERNELSTUB;
	if (root_has_prog(rootfd, "grubby"))
		return BOOT_GRUBBY;
	/* before GRUB: a Proxmox or systemd-boot machine often keeps
	 * /etc/default/grub from the installer without booting GRUB; a
	 * proxmox-boot-tool machine that boots GRUB from its ESPs is GRUB's */
	if (proxmox_boot_managed(rootfd) && !proxmox_boot_grub(rootfd))
		return BOOT_PROXMOX;
	if (bootmgr_sdboot_on_esp(rootfd))
		return BOOT_SYSTEMD_BOOT;
	if (root_exists(rootfd, GRUB_DEFAULT_FILE) == 0)
		return BOOT_GRUB;
	if (root_exists(rootfd, KCMDLINE_FILE) == 0)
		return BOOT_SYSTEMD_BOOT;
	return BOOT_UNKNOWN;
}

bool bootmgr_uses_kcmdline(enum bootmgr b)
{
	return b == BOOT_SYSTEMD_BOOT || b == BOOT_PROXMOX;
}

const char *bootmgr_name(enum bootmgr b)
{
	switch (b) {
	case BOOT_GRUB: return "grub";
	case BOOT_SYSTEMD_BOOT: return "systemd-boot";
	case BOOT_KERNELSTUB: return "kernelstub";
	case BOOT_GRUBBY: return "grubby";
	case BOOT_PROXMOX: return "proxmox-boot-tool";
	default: return "unknown";
	}
}

/* ---- systemd-boot: /etc/kernel/cmdline ---------------------------------------
 *
 * kernel-install reads one command line from this file. To take back exactly
 * what it added, acso keeps the file from before its first add as
 * cmdline.acso-bak (the backup every replaced file gets) and, in
 * KCMDLINE_RECORD, what it last wrote and which words it added. --remove
 * restores the file (or its absence) when the file is still what acso wrote;
 * after a change of the user's it takes out only acso's words. */

#define KC_MAX ((size_t)64 << 10)
#define KC_RECORD_HEAD "# acso: what `acso grub` wrote to /etc/kernel/cmdline (after the empty line), for `acso grub --remove`\n"
#define KC_WS " \t\n"

enum kc_before { KC_ABSENT, KC_BACKUP, KC_EDITED };
static const char *const kc_before_names[] = {"absent", "backup", "edited"};

struct kc_record {
	enum kc_before before;
	bool made_dir;          /* acso created /etc/kernel */
	struct strv added;      /* the words acso added */
	char *wrote;            /* what acso last wrote */
	size_t wrote_len;
};

static void kc_record_free(struct kc_record *r)
{
	strv_free(&r->added);
	free(r->wrote);
	memset(r, 0, sizeof(*r));
}

static void split_words(const char *text, struct strv *out)
{
	for (const char *p = text; p && *p;) {
		p += strspn(p, KC_WS);
		size_t len = strcspn(p, KC_WS);
		if (len) {
			_cleanup_free_ char *w = xstrndup(p, len);
			strv_push(out, w);
		}
		p += len;
	}
}

/* -ENOENT when there is no record; -ACSO_E_PARSE when it is not acso's. */
static int kc_record_read(int rootfd, struct kc_record *rec, struct acso_err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = root_read_file(rootfd, KCMDLINE_RECORD, KC_MAX + 4096, &text, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", KCMDLINE_RECORD, acso_strerror(r));
	const char *end = len >= strlen(KC_RECORD_HEAD) ? memmem(text, len, "\n\n", 2) : NULL;
	if (!startswith(text, KC_RECORD_HEAD) || !end)
		goto bad;
	bool have_before = false;
	for (char *line = text + strlen(KC_RECORD_HEAD); line <= end;) {
		char *nl = strchr(line, '\n');
		*nl = '\0';
		if (!strcmp(line, "made-dir")) {
			rec->made_dir = true;
		} else if (startswith(line, "added ")) {
			split_words(line + 6, &rec->added);
		} else if (startswith(line, "before ")) {
			for (size_t i = 0; i < ARRAY_SIZE(kc_before_names); i++)
				if (!strcmp(line + 7, kc_before_names[i])) {
					rec->before = (enum kc_before)i;
					have_before = true;
				}
		}
		line = nl + 1;
	}
	if (!have_before)
		goto bad;
	size_t off = (size_t)(end - text) + 2;
	rec->wrote_len = len - off;
	rec->wrote = xmalloc(rec->wrote_len + 1);
	memcpy(rec->wrote, text + off, rec->wrote_len);
	rec->wrote[rec->wrote_len] = '\0';
	return 0;
bad:
	kc_record_free(rec);
	return err_set(e, -ACSO_E_PARSE, "'%s' is not a record acso wrote; move it away", KCMDLINE_RECORD);
}

static char *kc_record_text(const struct kc_record *rec, size_t *len)
{
	struct buf b = {0};
	buf_printf(&b, KC_RECORD_HEAD "before %s\n%sadded", kc_before_names[rec->before],
		   rec->made_dir ? "made-dir\n" : "");
	for (size_t i = 0; i < rec->added.n; i++)
		buf_printf(&b, " %s", rec->added.v[i]);
	buf_printf(&b, "\n\n");
	buf_append(&b, rec->wrote, rec->wrote_len);
	return buf_take(&b, len);
}

/* text without the words in `words`, everything else byte for byte: a
 * word goes with the white space before it (the first word kept loses
 * the white space between it and the words taken out before it). */
static char *remove_words(const char *text, size_t len, const struct strv *words, size_t *out_len)
{
	struct buf b = {0};
	size_t i = strspn(text, KC_WS);
	if (i > len)
		i = len;
	buf_append(&b, text, i); /* leading white space */
	bool kept = false;
	while (i < len) {
		size_t ws = i;
		i += strspn(text + i, KC_WS);
		size_t w0 = i;
		i += strcspn(text + i, KC_WS);
		if (i > len)
			i = len;
		if (w0 >= len) { /* trailing white space */
			buf_append(&b, text + ws, len - ws);
			break;
		}
		_cleanup_free_ char *w = xstrndup(text + w0, i - w0);
		if (strv_has(words, w))
			continue;
		if (kept)
			buf_append(&b, text + ws, w0 - ws);
		buf_append(&b, text + w0, i - w0);
		kept = true;
	}
	return buf_take(&b, out_len);
}

/* What kernel-install uses without /etc/kernel/cmdline: /usr/lib/kernel/cmdline,
 * else /proc/cmdline without the boot loader's BOOT_IMAGE= and initrd=. */
static int kc_default_line(int rootfd, char **out, struct acso_err *e)
{
	int r = root_read_file(rootfd, "/usr/lib/kernel/cmdline", KC_MAX, out, NULL);
	if (r != -ENOENT)
		return r < 0 ? err_set(e, r, "cannot read '/usr/lib/kernel/cmdline': %s", acso_strerror(r)) : 0;
	_cleanup_free_ char *proc = NULL;
	r = root_read_file(rootfd, "/proc/cmdline", KC_MAX, &proc, NULL);
	if (r < 0)
		return err_set(e, r, "cannot read '/proc/cmdline': %s", acso_strerror(r));
	struct strv drop = {0};
	strv_push(&drop, "BOOT_IMAGE=");
	strv_push(&drop, "initrd=");
	*out = cmdline_apply(proc, &drop, false);
	strv_free(&drop);
	return 0;
}

void kcmdline_plan_free(struct kcmdline_plan *p)
{
	free(p->cur);
	free(p->text);
	free(p->record);
	strv_free(&p->words);
	memset(p, 0, sizeof(*p));
}

int kcmdline_prepare(int rootfd, const struct strv *params, bool remove, struct kcmdline_plan *p,
		     struct acso_err *e)
{
	struct kc_record rec = {0};
	_cleanup_free_ char *bak = NULL, *base = NULL, *line = NULL, *same = NULL;
	p->remove = remove;
	size_t bak_len = 0;
	int r = root_read_file(rootfd, KCMDLINE_FILE, KC_MAX, &p->cur, &p->cur_len);
	if (r == -ENOENT)
		p->cur = NULL;
	else if (r == -EFBIG)
		return err_set(e, -ACSO_E_TOOBIG, "'%s' is larger than %zu bytes", KCMDLINE_FILE, KC_MAX);
	else if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", KCMDLINE_FILE, acso_strerror(r));
	r = kc_record_read(rootfd, &rec, e);
	if (r < 0 && r != -ENOENT)
		return r;
	bool have_rec = r == 0;
	if (have_rec && rec.before == KC_BACKUP) {
		r = root_read_file(rootfd, KCMDLINE_FILE ".acso-bak", KC_MAX, &bak, &bak_len);
		if (r < 0 && r != -ENOENT) {
			kc_record_free(&rec);
			return err_set(e, r, "cannot read '%s.acso-bak': %s", KCMDLINE_FILE, acso_strerror(r));
		}
	}
	/* The file as it was before acso: a write that never happened (killed
	 * between the record and the file), or undone by hand. */
	if (have_rec && ((rec.before == KC_ABSENT && !p->cur) ||
			 (rec.before == KC_BACKUP && bak && same_bytes(p->cur, p->cur_len, bak, bak_len)))) {
		have_rec = false;
		p->record_changed = true; /* delete it, or replace it below */
	}
	bool ours = have_rec && same_bytes(p->cur, p->cur_len, rec.wrote, rec.wrote_len);

	if (remove) {
		if (!have_rec) {
			set_bytes(&p->text, &p->text_len, p->cur, p->cur_len);
			goto out;
		}
		for (size_t i = 0; i < rec.added.n; i++)
			strv_push(&p->words, rec.added.v[i]);
		p->record_changed = true;
		if (ours && rec.before == KC_ABSENT) {
			p->undo = KC_UNDO_DELETE;
			p->remove_dir = rec.made_dir;
		} else if (ours && rec.before == KC_BACKUP && bak) {
			p->undo = KC_UNDO_RESTORE;
			set_bytes(&p->text, &p->text_len, bak, bak_len);
		} else {
			p->undo = KC_UNDO_WORDS;
			if (p->cur)
				p->text = remove_words(p->cur, p->cur_len, &rec.added, &p->text_len);
		}
		p->changed = !same_bytes(p->cur, p->cur_len, p->text, p->text_len);
		goto out;
	}

	if (p->cur) {
		base = xstrdup(p->cur);
	} else if ((r = kc_default_line(rootfd, &base, e)) < 0) {
		kc_record_free(&rec);
		return r;
	}
	line = cmdline_apply(base, params, true);
	struct strv none = {0};
	if (p->cur)
		same = cmdline_apply(base, &none, false);
	if (same && !strcmp(same, line)) /* every parameter right already: the file as it is */
		set_bytes(&p->text, &p->text_len, p->cur, p->cur_len);
	else {
		p->text = xasprintf("%s\n", line);
		p->text_len = strlen(p->text);
	}
	for (size_t i = 0; i < params->n; i++)
		strv_push(&p->words, params->v[i]);
	p->changed = !same_bytes(p->cur, p->cur_len, p->text, p->text_len);
	if (!p->changed) {
		p->record_changed = false; /* nothing to write: a left-over record stays until it matters */
		goto out;
	}
	/* The words acso adds: those of the new line the old one did not have,
	 * and those it added before that are still there. */
	struct strv old_words = {0}, new_words = {0}, added = {0};
	split_words(base, &old_words);
	split_words(p->text, &new_words);
	for (size_t i = 0; i < new_words.n; i++)
		if ((!strv_has(&old_words, new_words.v[i]) || (have_rec && strv_has(&rec.added, new_words.v[i]))) &&
		    !strv_has(&added, new_words.v[i]))
			strv_push(&added, new_words.v[i]);
	strv_free(&old_words);
	strv_free(&new_words);
	if (!have_rec) {
		/* acso's first add: keep the file as it is now */
		rec.before = p->cur ? KC_BACKUP : KC_ABSENT;
		rec.made_dir = root_exists(rootfd, "/etc/kernel") == -ENOENT;
		p->backup = p->cur != NULL;
		p->make_dir = rec.made_dir;
	} else if (!ours) {
		/* changed since acso wrote it: an exact undo would lose that */
		rec.before = KC_EDITED;
	}
	strv_free(&rec.added);
	rec.added = added;
	set_bytes(&rec.wrote, &rec.wrote_len, p->text, p->text_len);
	p->record = kc_record_text(&rec, &p->record_len);
	p->record_changed = true;
out:
	kc_record_free(&rec);
	return 0;
}

/* Write one of acso's records under /var/lib/acso, or with NULL text delete
 * it (and /var/lib/acso when that leaves it empty). */
static int put_record(int rootfd, const char *path, const char *text, size_t len, struct acso_err *e)
{
	if (text) {
		int r = root_mkdir_p(rootfd, "/var/lib/acso");
		if (r == 0)
			r = put_file(rootfd, path, text, len, 0);
		return r < 0 ? err_set(e, r, "cannot write '%s': %s", path, acso_strerror(r)) : 0;
	}
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/var/lib/acso");
	if (dfd >= 0 && unlinkat(dfd, strrchr(path, '/') + 1, 0) < 0 && errno != ENOENT)
		return err_set(e, -errno, "cannot delete '%s': %s", path, strerror(errno));
	_cleanup_close_ int lib = root_opendir_fd(rootfd, "/var/lib");
	if (lib >= 0)
		unlinkat(lib, "acso", AT_REMOVEDIR); /* only when empty: nothing else of acso's there */
	return 0;
}

int kcmdline_commit(int rootfd, const struct kcmdline_plan *p, struct acso_err *e)
{
	int r;
	if (p->make_dir && (r = root_mkdir_p(rootfd, "/etc/kernel")) < 0)
		return err_set(e, r, "cannot create '/etc/kernel': %s", acso_strerror(r));
	/* In this order, a run killed anywhere leaves a state the next one
	 * reads right: the backup, the record, then the file. */
	if (p->backup) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/etc/kernel");
		r = dfd < 0 ? dfd : backup_file_at(dfd, "cmdline", 0);
		if (r < 0)
			return err_set(e, r, "cannot write '%s.acso-bak': %s", KCMDLINE_FILE, acso_strerror(r));
	}
	if (p->record_changed && p->record && (r = put_record(rootfd, KCMDLINE_RECORD, p->record, p->record_len, e)) < 0)
		return r;
	if (p->changed) {
		/* no WRITE_BACKUP: cmdline.acso-bak stays the file from before
		 * acso, which is how a record left by a killed run is recognised */
		r = put_file(rootfd, KCMDLINE_FILE, p->text, p->text_len, 0);
		if (r < 0)
			return err_set(e, r, "cannot %s '%s': %s", p->text ? "write" : "delete", KCMDLINE_FILE,
				       acso_strerror(r));
	}
	if (p->remove_dir) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/etc");
		if (dfd >= 0)
			unlinkat(dfd, "kernel", AT_REMOVEDIR); /* only when empty */
	}
	if (p->record_changed && !p->record)
		return put_record(rootfd, KCMDLINE_RECORD, NULL, 0, e);
	return 0;
}

/* ---- kernelstub, grubby: what acso passed them ------------------------------ */

#define BP_RECORD_HEAD "# acso: the boot parameters acso gave kernelstub or grubby, for `acso grub --remove`\n"

int boot_params_read(int rootfd, struct strv *params, struct acso_err *e)
{
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(rootfd, BOOT_PARAMS_RECORD, KC_MAX, &text, NULL);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", BOOT_PARAMS_RECORD, acso_strerror(r));
	if (!startswith(text, BP_RECORD_HEAD))
		return err_set(e, -ACSO_E_PARSE, "'%s' is not a record acso wrote; move it away", BOOT_PARAMS_RECORD);
	split_words(text + strlen(BP_RECORD_HEAD), params);
	return 0;
}

int boot_params_write(int rootfd, const struct strv *params, struct acso_err *e)
{
	if (!params || !params->n)
		return put_record(rootfd, BOOT_PARAMS_RECORD, NULL, 0, e);
	struct buf b = {0};
	buf_printf(&b, BP_RECORD_HEAD);
	for (size_t i = 0; i < params->n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", params->v[i]);
	buf_printf(&b, "\n");
	int r = put_record(rootfd, BOOT_PARAMS_RECORD, b.data, b.len, e);
	buf_free(&b);
	return r;
}
