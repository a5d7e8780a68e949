/* keyring.c — the public keys verification is pinned to: acso's keys/
 * directory plus --keyring. Each key is kept with its subkeys, its v4
 * fingerprint and the name (primary user ID) reports show.
 *
 * Primary keys are trusted because they are in these files (the user's or
 * the package's trust decision), so their self-signatures are not checked.
 * A subkey is used only when its binding signature (type 0x18) by the
 * primary verifies and its key flags, if any, allow signing. A key file that
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

static bool have_fpr(const struct pgp_keyring *kr, const uint8_t fpr[20], size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (!memcmp(kr->keys[i].fpr, fpr, 20))
			return true;
	return false;
}

/* A v4 key packet as hashed in key signatures: 0x99, 2-octet length, body. */
static void hash_key_packet(struct hash *h, const uint8_t *body, size_t len)
{
	uint8_t hdr[3] = {0x99, (uint8_t)(len >> 8), (uint8_t)len};
	hash_update(h, hdr, 3);
	hash_update(h, body, len);
}

/* Does sigbody bind the subkey to the primary, for signing? */
static bool binding_ok(const struct pgp_key *primary, const uint8_t *pbody, size_t plen,
		       const uint8_t *sbody, size_t slen, const uint8_t *sigbody, size_t siglen)
{
	struct pgp_sig s;
	if (pgp_sig_parse_body(sigbody, siglen, &s, NULL) < 0)
		return false;
	bool ok = false;
	const char *hid = pgp_hash_id(s.hashalgo);
	if (s.type == 0x18 && hid && plen <= 0xFFFF && slen <= 0xFFFF &&
	    (!s.has_fpr || !memcmp(s.fpr, primary->fpr, 20)) &&
	    (!s.has_keyid || !memcmp(s.keyid, primary->fpr + 12, 8)) &&
	    (!s.has_keyflags || (s.keyflags & 0x02))) {
		struct hash *h = hash_new(hid);
		hash_key_packet(h, pbody, plen);
		hash_key_packet(h, sbody, slen);
		pgp_hash_trailer(h, &s);
		uint8_t dig[HASH_MAX_LEN];
		size_t dlen = hash_final(h, dig);
		ok = pgp_sig_check_digest(primary, &s, dig, dlen, NULL) == 1;
	}
	pgp_sig_clear(&s);
	return ok;
}

/* Keys from binary packets. Returns the number of primary keys added;
 * *usable counts the usable primary keys seen, known ones included. */
static int add_binary(struct pgp_keyring *kr, const uint8_t *d, size_t len, int *usable, struct acso_err *e)
{
	size_t off = 0, start = kr->n;
	long cur = -1;          /* index of the current primary, -1 none/skipped */
	long cursub = -1;       /* index of the subkey the next signatures are about */
	const uint8_t *pbody = NULL, *sbody = NULL;
	size_t plen = 0, slen = 0;
	bool in_uid = false;    /* the last user ID belongs to cur */
	char uid[256] = "";
	int added = 0, r;
	struct pgp_pkt p;
	struct acso_err sub = {0};
	int first_skip = 0;

	while ((r = pgp_packet_next(d, len, &off, &p, e)) > 0) {
		struct pgp_key k;
		switch (p.tag) {
		case 6: /* public key */
		case 14: /* public subkey */
			in_uid = false;
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
			if (p.tag == 14) {
				if (cur < 0 || have_fpr(kr, k.fpr, kr->n)) {
					pgp_key_clear(&k);
					continue;
				}
				k.primary = (int)cur;
				memcpy(k.name, kr->keys[cur].name, sizeof(k.name));
				push(kr, &k);
				cursub = (long)kr->n - 1;
				sbody = p.body;
				slen = p.len;
				continue;
			}
			(*usable)++;
			if (have_fpr(kr, k.fpr, kr->n)) { /* the same key twice */
				pgp_key_clear(&k);
				cur = -1;
				continue;
			}
			k.can_sign = true;
			push(kr, &k);
			cur = (long)kr->n - 1;
			pbody = p.body;
			plen = p.len;
			added++;
			break;
		case 13: /* user ID */
			in_uid = false;
			cursub = -1;
			if (cur < 0)
				continue;
			snprintf(uid, sizeof(uid), "%.*s", (int)(p.len < 255 ? p.len : 255), (const char *)p.body);
			for (char *c = uid; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = '?';
			if (!kr->keys[cur].name[0])
				memcpy(kr->keys[cur].name, uid, sizeof(uid));
			in_uid = true;
			break;
		case 2: { /* signature: a self-signature may mark the primary user ID */
			struct pgp_sig s;
			if (cursub >= 0) {
				if (!kr->keys[cursub].can_sign &&
				    binding_ok(&kr->keys[cur], pbody, plen, sbody, slen, p.body, p.len))
					kr->keys[cursub].can_sign = true;
				break;
			}
			if (cur >= 0 && in_uid && !kr->keys[cur].name_is_primary &&
			    pgp_sig_parse_body(p.body, p.len, &s, NULL) == 0) {
				if (s.primary_uid && s.has_keyid == false && !s.has_fpr)
					; /* no issuer: cannot tell it is a self-signature */
				else if (s.primary_uid &&
					 ((s.has_fpr && !memcmp(s.fpr, kr->keys[cur].fpr, 20)) ||
					  (s.has_keyid && !memcmp(s.keyid, kr->keys[cur].fpr + 12, 8)))) {
					memcpy(kr->keys[cur].name, uid, sizeof(uid));
					kr->keys[cur].name_is_primary = true;
				}
				pgp_sig_clear(&s);
			}
			break;
		}
		case 17: /* user attribute (photo) */
			in_uid = false;
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
	for (size_t i = start; i < kr->n; i++)
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
