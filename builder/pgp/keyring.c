/* keyring.c — the public keys verification is pinned to: acso's keys/
 * directory plus --keyring. Each key is kept with its subkeys, its v4
 * fingerprint and the name (primary user ID) reports show.
 *
 * Primary keys are trusted because they are in these files (the user's or
 * the package's trust decision). Their self-signatures are checked for what
 * they say about validity, as gpgv and sqv do: the newest valid one decides
 * the expiration time (whatever the order of the packets, and across two
 * exports of one key, which are merged), and a valid revocation (0x20 for
 * the key, 0x28 for a subkey) revokes. A subkey is used only when its newest
 * valid binding signature (type 0x18) by the primary allows signing (key
 * flags), and neither it nor its primary is expired or revoked. A key file that
 * cannot be parsed is an error; an unsupported key inside it (DSA, ElGamal,
 * v3, a curve other than Ed25519) is skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/hash.h"
#include "pgp/pgp-int.h"
#include "base/util.h"

struct pgp_keyring {
	struct pgp_key *keys;
	size_t n, cap;
};

int pgp_keyring_new(struct pgp_keyring **kr)
{
	*kr = xcalloc(1, sizeof(**kr));
	return 0;
}

void pgp_keyring_free(struct pgp_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++)
		pgp_key_clear(&kr->keys[i]);
	free(kr->keys);
	free(kr);
}

size_t pgp_keyring_count(const struct pgp_keyring *kr)
{
	size_t c = 0;
	for (size_t i = 0; i < kr->n; i++)
		c += kr->keys[i].primary < 0;
	return c;
}

static struct pgp_key *push(struct pgp_keyring *kr, struct pgp_key *k)
{
	if (kr->n == kr->cap) {
		kr->cap = kr->cap ? 2 * kr->cap : 8;
		kr->keys = xrealloc(kr->keys, kr->cap * sizeof(*kr->keys));
	}
	kr->keys[kr->n] = *k;
	return &kr->keys[kr->n++];
}

/* A v4 key packet as hashed in key signatures: 0x99, 2-octet length, body. */
static void hash_key_packet(struct hash *h, const uint8_t *body, size_t len)
{
	uint8_t hdr[3] = {0x99, (uint8_t)(len >> 8), (uint8_t)len};
	hash_update(h, hdr, 3);
	hash_update(h, body, len);
}

/* What a self-signature covers after the primary key packet: a subkey
 * packet (binding 0x18, subkey revocation 0x28), a user ID (certifications
 * 0x10-0x13), or nothing (direct-key 0x1F, key revocation 0x20). */
struct signed_obj {
	const uint8_t *pbody, *sbody, *uid;
	size_t plen, slen, uidlen;
};

/* Parse sigbody into s and check that the primary made it over o. On false
 * s holds nothing to free. */
static bool self_sig(const struct pgp_key *primary, const struct signed_obj *o, const uint8_t *sigbody,
		     size_t siglen, struct pgp_sig *s)
{
	if (pgp_sig_parse_body(sigbody, siglen, s, NULL) < 0)
		return false;
	bool ok = false;
	const char *hid = pgp_hash_id(s->hashalgo);
	if (hid && o->plen <= 0xFFFF && o->slen <= 0xFFFF &&
	    (!s->has_fpr || !memcmp(s->fpr, primary->fpr, 20)) &&
	    (!s->has_keyid || !memcmp(s->keyid, primary->fpr + 12, 8))) {
		struct hash *h = hash_new(hid);
		hash_key_packet(h, o->pbody, o->plen);
		if (o->sbody)
			hash_key_packet(h, o->sbody, o->slen);
		if (o->uid) {
			uint8_t hdr[5] = {0xB4, (uint8_t)(o->uidlen >> 24), (uint8_t)(o->uidlen >> 16),
					  (uint8_t)(o->uidlen >> 8), (uint8_t)o->uidlen};
			hash_update(h, hdr, sizeof(hdr));
			hash_update(h, o->uid, o->uidlen);
		}
		pgp_hash_trailer(h, s);
		uint8_t dig[HASH_MAX_LEN];
		size_t dlen = hash_final(h, dig);
		ok = pgp_sig_check_digest(primary, s, dig, dlen, NULL) == 1;
	}
	if (!ok)
		pgp_sig_clear(s);
	return ok;
}

/* A valid self-signature that states the key's validity: the newest one
 * decides, whatever the order of the packets (or of two exports of one key
 * in the files). Revocations count whenever they were made. */
static void apply_self_sig(struct pgp_key *k, const struct pgp_sig *s, bool subkey)
{
	if (s->type == (subkey ? 0x28 : 0x20)) {
		if (!k->revoked || s->created < k->revoked)
			k->revoked = s->created > 0 ? s->created : 1;
		return;
	}
	bool states = subkey ? s->type == 0x18 : (s->type >= 0x10 && s->type <= 0x13) || s->type == 0x1F;
	if (!states || s->created < k->self_time)
		return;
	k->self_time = s->created;
	k->expires = s->key_expires ? k->created + s->key_expires : 0;
	if (subkey)
		k->can_sign = !s->has_keyflags || (s->keyflags & 0x02);
}

/* The roles of the keys kernel.org signs with (keys/README). Any other key
 * may sign for both (pgp.h). */
static const struct {
	const char *fpr;
	unsigned roles;
} role_table[] = {
	{"B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1", PGP_ROLE_SUMS},    /* checksum autosigner */
	{"647F28654894E3BD457199BE38DBBDC86092693E", PGP_ROLE_RELEASE}, /* Greg Kroah-Hartman */
	{"ABAF11C65A2970B130ABE3C479BE3E4300411886", PGP_ROLE_RELEASE}, /* Linus Torvalds */
	{"E27E5D8A3403A2EF66873BBCDEA66FF797772CDC", PGP_ROLE_RELEASE}, /* Sasha Levin */
	{"AC2B29BD34A6AFDDB3F68F35E7BFC8EC95861109", PGP_ROLE_RELEASE}, /* Ben Hutchings */
};

static unsigned roles_of(const char *fprhex)
{
	for (size_t i = 0; i < ARRAY_SIZE(role_table); i++)
		if (!strcmp(role_table[i].fpr, fprhex))
			return role_table[i].roles;
	return PGP_ROLE_ANY;
}

const char *pgp_role_name(unsigned role)
{
	switch (role) {
	case PGP_ROLE_SUMS: return "checksums";
	case PGP_ROLE_RELEASE: return "release";
	case PGP_ROLE_ANY: return "any";
	default: return "none";
	}
}

static long index_of(const struct pgp_keyring *kr, const uint8_t fpr[20])
{
	for (size_t i = 0; i < kr->n; i++)
		if (!memcmp(kr->keys[i].fpr, fpr, 20))
			return (long)i;
	return -1;
}

/* Keys from binary packets. Returns the number of primary keys added;
 * *usable counts the usable primary keys seen, known ones included. A key
 * seen again (in this file or an earlier one) is merged: its newer
 * self-signatures, bindings and revocations count. */
static int add_binary(struct pgp_keyring *kr, const uint8_t *d, size_t len, int *usable, struct acso_err *e)
{
	size_t off = 0, start = kr->n;
	long cur = -1;          /* index of the current primary, -1 none/skipped */
	long cursub = -1;       /* index of the subkey the next signatures are about */
	enum { AT_KEY, AT_UID, AT_OTHER } at = AT_OTHER; /* what the next signatures are about */
	struct signed_obj o = {0};
	char uid[256] = "";
	int added = 0, r;
	struct pgp_pkt p;
	struct acso_err sub = {0};
	int first_skip = 0;

	while ((r = pgp_packet_next(d, len, &off, &p, e)) > 0) {
		struct pgp_key k;
		long idx;
		switch (p.tag) {
		case 6: /* public key */
		case 14: /* public subkey */
			at = AT_OTHER;
			cursub = -1;
			r = pgp_key_parse(p.body, p.len, &k, &sub);
			if (r == -ACSO_E_UNSUPPORTED) {
				if (p.tag == 6)
					cur = -1;
				if (!first_skip) {
					first_skip = r;
					err_set(e, r, "%s", sub.msg);
				}
				continue;
			}
			if (r < 0)
				return err_set(e, r, "%s key: %s", p.tag == 6 ? "public" : "sub", sub.msg);
			idx = index_of(kr, k.fpr);
			if (p.tag == 14) {
				if (cur < 0 || (idx >= 0 && kr->keys[idx].primary != cur)) {
					pgp_key_clear(&k);
					continue;
				}
				if (idx >= 0) { /* the same subkey again */
					pgp_key_clear(&k);
					cursub = idx;
				} else {
					k.primary = (int)cur;
					memcpy(k.name, kr->keys[cur].name, sizeof(k.name));
					push(kr, &k);
					cursub = (long)kr->n - 1;
				}
				o.sbody = p.body;
				o.slen = p.len;
				continue;
			}
			(*usable)++;
			if (idx >= 0) { /* the same key again */
				pgp_key_clear(&k);
				cur = kr->keys[idx].primary < 0 ? idx : -1;
			} else {
				k.can_sign = true;
				k.roles = roles_of(k.fprhex);
				push(kr, &k);
				cur = (long)kr->n - 1;
				added++;
			}
			o.pbody = p.body;
			o.plen = p.len;
			at = AT_KEY;
			break;
		case 13: /* user ID */
			at = AT_OTHER;
			cursub = -1;
			if (cur < 0)
				continue;
			snprintf(uid, sizeof(uid), "%.*s", (int)(p.len < 255 ? p.len : 255), (const char *)p.body);
			for (char *c = uid; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = '?';
			if (!kr->keys[cur].name[0])
				memcpy(kr->keys[cur].name, uid, sizeof(uid));
			o.uid = p.body;
			o.uidlen = p.len;
			at = AT_UID;
			break;
		case 2: { /* signature: self-signatures state validity and the primary user ID */
			if (cur < 0 || (at == AT_OTHER && cursub < 0))
				break;
			struct pgp_sig s;
			struct signed_obj so = {.pbody = o.pbody, .plen = o.plen};
			if (cursub >= 0) {
				so.sbody = o.sbody;
				so.slen = o.slen;
			} else if (at == AT_UID) {
				so.uid = o.uid;
				so.uidlen = o.uidlen;
			}
			if (!self_sig(&kr->keys[cur], &so, p.body, p.len, &s))
				break;
			apply_self_sig(&kr->keys[cursub >= 0 ? cursub : cur], &s, cursub >= 0);
			if (at == AT_UID && s.primary_uid && !kr->keys[cur].name_is_primary) {
				memcpy(kr->keys[cur].name, uid, sizeof(uid));
				kr->keys[cur].name_is_primary = true;
			}
			pgp_sig_clear(&s);
			break;
		}
		case 17: /* user attribute (photo) */
			at = AT_OTHER;
			cursub = -1;
			break;
		default: /* trust, marker, ... */
			break;
		}
	}
	if (r < 0) {
		/* undo what this call added: a broken file adds nothing */
		for (size_t i = start; i < kr->n; i++)
			pgp_key_clear(&kr->keys[i]);
		kr->n = start;
		return r;
	}
	/* Subkeys take the final name of their primary. */
	for (size_t i = 0; i < kr->n; i++)
		if (kr->keys[i].primary >= 0)
			memcpy(kr->keys[i].name, kr->keys[kr->keys[i].primary].name, sizeof(kr->keys[i].name));
	if (*usable == 0 && first_skip)
		return first_skip;
	if (off == 0)
		return err_set(e, -ACSO_E_PARSE, "no OpenPGP packets");
	err_clear(e);
	return added;
}

int pgp_keyring_add_data(struct pgp_keyring *kr, const void *data, size_t len, struct acso_err *e)
{
	if (len > PGP_MAX_KEYFILE)
		return err_set(e, -ACSO_E_TOOBIG, "key data of %zu bytes (limit %u)", len, PGP_MAX_KEYFILE);
	int usable = 0;
	if (!pgp_looks_armored(data, len)) {
		int r = add_binary(kr, data, len, &usable, e);
		if (r == 0 && usable == 0)
			return err_set(e, -ACSO_E_NOTFOUND, "no public key in the data");
		return r;
	}
	const char *t = data;
	size_t off = 0;
	int total = 0, blocks = 0;
	for (;;) {
		char type[64];
		_cleanup_free_ uint8_t *bin = NULL;
		size_t binlen, used;
		int r = pgp_armor_decode(t + off, len - off, type, &bin, &binlen, &used, e);
		if (r == -ACSO_E_NOTFOUND && blocks > 0)
			break;
		if (r < 0)
			return r;
		blocks++;
		off += used;
		if (strcmp(type, "PUBLIC KEY BLOCK"))
			continue; /* a signature or message next to the key */
		r = add_binary(kr, bin, binlen, &usable, e);
		if (r < 0)
			return r;
		total += r;
	}
	if (usable == 0)
		return err_set(e, -ACSO_E_NOTFOUND, "no 'PGP PUBLIC KEY BLOCK' in the data");
	return total;
}

static int add_file(struct pgp_keyring *kr, int dirfd, const char *name, const char *shown,
		    struct acso_err *e)
{
	_cleanup_free_ char *d = NULL;
	size_t len;
	int r = read_file_at(dirfd, name, PGP_MAX_KEYFILE, &d, &len);
	if (r == -EFBIG)
		return err_set(e, -ACSO_E_TOOBIG, "key file '%s' is larger than %u bytes", shown, PGP_MAX_KEYFILE);
	if (r < 0)
		return err_set(e, r, "read key file '%s': %s", shown, acso_strerror(r));
	r = pgp_keyring_add_data(kr, d, len, e);
	if (r < 0)
		return err_wrap(e, r, "key file '%s'", shown);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pgp_keyring_add_path(struct pgp_keyring *kr, const char *path, struct acso_err *e)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return err_set(e, -errno, "keyring '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return add_file(kr, AT_FDCWD, path, path, e);

	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, -errno, "keyring '%s': %s", path, strerror(errno));
	DIR *dir = fdopendir(dup(dfd));
	if (!dir)
		return err_set(e, -errno, "keyring '%s': %s", path, strerror(errno));
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && (endswith(de->d_name, ".asc") || endswith(de->d_name, ".gpg")))
			strv_push(&names, de->d_name);
	closedir(dir);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str); /* stable order: stable errors */
	int total = 0, r = 0;
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *shown = path_join(path, names.v[i]);
		r = add_file(kr, dfd, names.v[i], shown, e);
		if (r < 0)
			break;
		total += r;
	}
	size_t files = names.n;
	strv_free(&names);
	if (r < 0)
		return r;
	if (files == 0)
		return err_set(e, -ACSO_E_NOTFOUND, "keyring '%s' holds no *.asc or *.gpg key file", path);
	return total;
}

static const struct pgp_key *find_keyid(const struct pgp_keyring *kr, const uint8_t id[8])
{
	for (size_t i = 0; i < kr->n; i++)
		if (!memcmp(kr->keys[i].fpr + 12, id, 8))
			return &kr->keys[i];
	return NULL;
}

static const struct pgp_key *find_fpr(const struct pgp_keyring *kr, const uint8_t fpr[20])
{
	for (size_t i = 0; i < kr->n; i++)
		if (!memcmp(kr->keys[i].fpr, fpr, 20))
			return &kr->keys[i];
	return NULL;
}

const struct pgp_key *pgp_keyring_lookup(const struct pgp_keyring *kr, const struct pgp_sig *s)
{
	if (!kr)
		return NULL;
	if (s->has_fpr)
		return find_fpr(kr, s->fpr);
	if (s->has_keyid)
		return find_keyid(kr, s->keyid);
	return NULL;
}

const struct pgp_key *pgp_keyring_primary(const struct pgp_keyring *kr, const struct pgp_key *k)
{
	return k->primary >= 0 ? &kr->keys[k->primary] : k;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;
		for (int j = 0; j < 2; j++) {
			int c = s[2 * i + j];
			int x = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
				: (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
			if (x < 0)
				return -EINVAL;
			v = v * 16 + x;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

int pgp_keyring_find(const struct pgp_keyring *kr, const char *id, struct pgp_signer *who)
{
	uint8_t b[20];
	size_t l = id ? strlen(id) : 0;
	if (l > 2 && (id[0] == '0') && (id[1] == 'x' || id[1] == 'X'))
		id += 2, l -= 2;
	const struct pgp_key *k = NULL;
	if (l == 40 && unhex(id, b, 20) == 0)
		k = find_fpr(kr, b);
	else if (l == 16 && unhex(id, b, 8) == 0)
		k = find_keyid(kr, b);
	if (!k)
		return -ACSO_E_NOKEY;
	if (who) {
		const struct pgp_key *pk = pgp_keyring_primary(kr, k);
		snprintf(who->fingerprint, sizeof(who->fingerprint), "%s", pk->fprhex);
		snprintf(who->keyid, sizeof(who->keyid), "%s", k->keyid);
		snprintf(who->name, sizeof(who->name), "%s", pk->name);
		who->pubkey_algo = k->algo;
	}
	return 0;
}
