/* secureboot.c — see secureboot.h. */
#include <errno.h>
#include <string.h>

#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "machine/secureboot.h"

enum tri sb_parse_efivar(const unsigned char *data, size_t len)
{
	if (!data || len != 5)
		return TRI_UNKNOWN;
	return data[4] == 1 ? TRI_YES : data[4] == 0 ? TRI_NO : TRI_UNKNOWN;
}

int sb_parse_lockdown(const char *text, char *out, size_t outlen)
{
	const char *o = text ? strchr(text, '[') : NULL;
	const char *c = o ? strchr(o, ']') : NULL;
	if (!c || c == o + 1 || (size_t)(c - o - 1) >= outlen)
		return -EINVAL;
	memcpy(out, o + 1, (size_t)(c - o - 1));
	out[c - o - 1] = '\0';
	return 0;
}

enum tri sb_parse_mokutil(const char *text, enum tri *setup)
{
	if (setup)
		*setup = text && strstr(text, "Setup Mode") ? TRI_YES : TRI_UNKNOWN;
	if (!text)
		return TRI_UNKNOWN;
	if (strstr(text, "validation is disabled"))
		return TRI_NO;
	if (strstr(text, "SecureBoot enabled"))
		return TRI_YES;
	if (strstr(text, "SecureBoot disabled") || strstr(text, "doesn't support Secure Boot"))
		return TRI_NO;
	return TRI_UNKNOWN;
}

static enum tri read_var(int rootfd, const char *name)
{
	_cleanup_free_ char *p = xasprintf("/sys/firmware/efi/efivars/%s-" EFI_GLOBAL_GUID, name);
	_cleanup_free_ char *v = NULL;
	size_t len = 0;
	if (root_read_file(rootfd, p, 64, &v, &len) < 0)
		return TRI_UNKNOWN;
	return sb_parse_efivar((const unsigned char *)v, len);
}

static void ask_mokutil(struct sb_state *s)
{
	_cleanup_free_ char *prog = spawn_which("mokutil");
	if (!prog)
		return;
	struct buf out = {0};
	struct spawn_opts o = {.log_fd = -1, .quiet = true, .capture = &out};
	const char *argv[] = {"mokutil", "--sb-state", NULL};
	int status;
	if (spawn_run(argv, &o, &status) == 0) {
		enum tri setup;
		enum tri sb = sb_parse_mokutil(buf_str(&out), &setup);
		if (sb != TRI_UNKNOWN) {
			s->secure_boot = sb;
			if (setup != TRI_UNKNOWN)
				s->setup_mode = setup;
			snprintf(s->source, sizeof(s->source), "mokutil");
		}
	}
	buf_free(&out);
}

void sb_read(int rootfd, bool live, struct sb_state *s)
{
	memset(s, 0, sizeof(*s));
	s->efi = root_exists(rootfd, "/sys/firmware/efi") == 0 ? TRI_YES : TRI_NO;
	s->secure_boot = read_var(rootfd, "SecureBoot");
	s->setup_mode = read_var(rootfd, "SetupMode");
	if (s->secure_boot != TRI_UNKNOWN)
		snprintf(s->source, sizeof(s->source), "efivars");
	else if (s->efi == TRI_NO)
		s->secure_boot = TRI_NO; /* legacy BIOS boot: no Secure Boot */
	else if (live)
		ask_mokutil(s);
	_cleanup_free_ char *ld = NULL;
	if (root_read_file(rootfd, "/sys/kernel/security/lockdown", 256, &ld, NULL) == 0)
		sb_parse_lockdown(ld, s->lockdown, sizeof(s->lockdown));
}
