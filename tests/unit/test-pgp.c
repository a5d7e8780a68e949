/* Unit tests for the OpenPGP reader: hash wrapper, CRC24 and armor, packet
 * framing, keys, signatures, keyring, streaming verification (RSA, Ed25519
 * legacy 22 and RFC 9580 27), cleartext, and every error path.
 * Vectors: tests/data/kernel.org (real), tests/data/pgp (gpg-made, fixed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/hash.h"
#include "pgp/pgp-int.h"
#include "pgp/pgp.h"
#include "pgp/sigfile.h"
#include "base/spawn.h"
#include "base/util.h"

#define KO "tests/data/kernel.org/"
#define PD "tests/data/pgp/"
#define GREG "647F28654894E3BD457199BE38DBBDC86092693E"
#define LINUS "ABAF11C65A2970B130ABE3C479BE3E4300411886"
#define AUTO "B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1"

__attribute__((noinline)) static char *slurp(const char *path, size_t *len)
{
	char *d = NULL;
	size_t l = 0;
	assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 22, &d, &l), 0);
	if (len)
		*len = l;
	return d;
}

static struct pgp_keyring *ring(const char *path)
{
	struct pgp_keyring *kr;
	struct acso_err e = {0};
	assert_int_equal(pgp_keyring_new(&kr), 0);
	if (path)
		assert_true(pgp_keyring_add_path(kr, path, &e) > 0);
	return kr;
}

/* ---- hash.c ---- */
static void test_hash(void **state)
{
	char hex[HASH_HEX_MAX];
	assert_int_equal(hash_buf_hex("sha256", "abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(hash_buf_hex("SHA1", "abc", 3, hex), 0);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_int_equal(hash_buf_hex("sha512", "abc", 3, hex), 0);
	assert_true(startswith(hex, "ddaf35a193617aba"));
	assert_int_equal(strlen(hex), 128);
	assert_int_equal(hash_buf_hex("md5", "abc", 3, hex), -EINVAL);
	assert_null(hash_new("whirlpool"));
	assert_null(hash_new(NULL));
	/* streaming in pieces equals one shot */
	struct hash *h = hash_new("sha256");
	assert_int_equal(hash_len(h), 32);
	hash_update(h, "a", 1);
	hash_update(h, "", 0);
	hash_update(h, "bc", 2);
	char hex2[HASH_HEX_MAX];
	hash_final_hex(h, hex2);
	assert_string_equal(hex2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hash_free(hash_new("sha384"));
	hash_free(NULL);
	assert_true(hash_hex_equal("ABcd", "abCD"));
	assert_false(hash_hex_equal("abcd", "abce"));
	assert_false(hash_hex_equal("abcd", "abc"));
	assert_false(hash_hex_equal("", ""));
}

/* ---- armor.c ---- */
static void test_crc24(void **state)
{
	assert_int_equal(pgp_crc24((const uint8_t *)"", 0), 0xB704CE);
	assert_int_equal(pgp_crc24((const uint8_t *)"123456789", 9), 0x21CF02);
}

/* "hello" = aGVsbG8=, CRC24("hello") */
static char *armor_of(const char *prefix, const char *crcline, const char *type_end)
{
	return xasprintf("%s-----BEGIN PGP SIGNATURE-----\nComment: x\n\naGVs\nbG8=\n%s-----END PGP %s-----\n",
			 prefix, crcline, type_end);
}

static void test_armor(void **state)
{
	char type[64], crcl[16];
	uint8_t *out;
	size_t n, used;
	struct acso_err e = {0};
	uint32_t c = pgp_crc24((const uint8_t *)"hello", 5);
	uint8_t cb[3] = {(uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	snprintf(crcl, sizeof(crcl), "=%c%c%c%c\n", b64[cb[0] >> 2], b64[((cb[0] & 3) << 4) | (cb[1] >> 4)],
		 b64[((cb[1] & 15) << 2) | (cb[2] >> 6)], b64[cb[2] & 63]);

	_cleanup_free_ char *good = armor_of("some text first\n", crcl, "SIGNATURE");
	assert_true(pgp_looks_armored(good, strlen(good)));
	assert_int_equal(pgp_armor_decode(good, strlen(good), type, &out, &n, &used, &e), 0);
	assert_string_equal(type, "SIGNATURE");
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(used, strlen(good));
	free(out);

	/* CRLF line endings throughout, blank lines before END */
	_cleanup_free_ char *crlf = xasprintf("-----BEGIN PGP SIGNATURE-----\r\nVersion: x\r\n\r\naGVs\r\nbG8=\r\n%.5s\r\n\r\n"
					      "-----END PGP SIGNATURE-----\r\n", crcl);
	assert_int_equal(pgp_armor_decode(crlf, strlen(crlf), type, &out, &n, &used, &e), 0);
	assert_int_equal(n, 5);
	free(out);

	_cleanup_free_ char *nocrc = armor_of("", "", "SIGNATURE");
	assert_int_equal(pgp_armor_decode(nocrc, strlen(nocrc), type, &out, &n, &used, &e), 0);
	free(out);

	_cleanup_free_ char *badcrc = armor_of("", "=AAAA\n", "SIGNATURE");
	assert_int_equal(pgp_armor_decode(badcrc, strlen(badcrc), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "CRC24 checksum mismatch"));

	_cleanup_free_ char *shortcrc = armor_of("", "=AAA\n", "SIGNATURE");
	assert_int_equal(pgp_armor_decode(shortcrc, strlen(shortcrc), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "malformed checksum"));

	_cleanup_free_ char *wrongend = armor_of("", crcl, "MESSAGE");
	assert_int_equal(pgp_armor_decode(wrongend, strlen(wrongend), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "END line does not match"));

	static const char none[] = "just text\n";
	assert_false(pgp_looks_armored(none, strlen(none)));
	assert_int_equal(pgp_armor_decode(none, strlen(none), type, &out, &n, &used, &e), -ACSO_E_NOTFOUND);
	static const char noend[] = "-----BEGIN PGP SIGNATURE-----\n\naGVsbG8=\n";
	assert_int_equal(pgp_armor_decode(noend, strlen(noend), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	static const char onlybegin[] = "-----BEGIN PGP SIGNATURE-----";
	assert_int_equal(pgp_armor_decode(onlybegin, strlen(onlybegin), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	static const char badbegin[] = "-----BEGIN PGP SIGNATURE\n\naGVsbG8=\n-----END PGP SIGNATURE-----\n";
	assert_int_equal(pgp_armor_decode(badbegin, strlen(badbegin), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	static const char badb64[] = "-----BEGIN PGP SIGNATURE-----\n\naG*sbG8=\n-----END PGP SIGNATURE-----\n";
	assert_int_equal(pgp_armor_decode(badb64, strlen(badb64), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "invalid base64"));
	static const char afterpad[] = "-----BEGIN PGP SIGNATURE-----\n\naGVsbG8=aGVs\n-----END PGP SIGNATURE-----\n";
	assert_int_equal(pgp_armor_decode(afterpad, strlen(afterpad), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	static const char empty[] = "-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n";
	assert_int_equal(pgp_armor_decode(empty, strlen(empty), type, &out, &n, &used, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "no data"));
	static const char noblank[] = "-----BEGIN PGP SIGNATURE-----\nVersion: x";
	assert_int_equal(pgp_armor_decode(noblank, strlen(noblank), type, &out, &n, &used, &e), -ACSO_E_PARSE);
}

/* ---- pgp-packet.c: framing ---- */
static void test_packet_framing(void **state)
{
	struct pgp_pkt p;
	size_t off = 0;
	struct acso_err e = {0};
	/* new format, 1-octet length; then old format 1-octet length */
	static const uint8_t two[] = {0xC2, 0x01, 0xAA, 0x88, 0x02, 0xBB, 0xCC};
	assert_int_equal(pgp_packet_next(two, sizeof(two), &off, &p, &e), 1);
	assert_int_equal(p.tag, 2);
	assert_int_equal(p.len, 1);
	assert_int_equal(pgp_packet_next(two, sizeof(two), &off, &p, &e), 1);
	assert_int_equal(p.tag, 2);
	assert_int_equal(p.len, 2);
	assert_int_equal(p.body[1], 0xCC);
	assert_int_equal(pgp_packet_next(two, sizeof(two), &off, &p, &e), 0);

	/* new format 2-octet (192..8383) and 5-octet lengths */
	uint8_t big[8 + 300] = {0xC2, 192 + ((300 - 192) >> 8), (300 - 192) & 0xFF};
	off = 0;
	assert_int_equal(pgp_packet_next(big, 3 + 300, &off, &p, &e), 1);
	assert_int_equal(p.len, 300);
	uint8_t five[6 + 4] = {0xC2, 0xFF, 0, 0, 0, 4};
	off = 0;
	assert_int_equal(pgp_packet_next(five, sizeof(five), &off, &p, &e), 1);
	assert_int_equal(p.len, 4);
	/* old format 2- and 4-octet lengths, and indeterminate */
	static const uint8_t o2[] = {0x89, 0x00, 0x01, 0x77};
	off = 0;
	assert_int_equal(pgp_packet_next(o2, sizeof(o2), &off, &p, &e), 1);
	assert_int_equal(p.len, 1);
	static const uint8_t o4[] = {0x8A, 0, 0, 0, 1, 0x77};
	off = 0;
	assert_int_equal(pgp_packet_next(o4, sizeof(o4), &off, &p, &e), 1);
	static const uint8_t oi[] = {0x8B, 1, 2, 3};
	off = 0;
	assert_int_equal(pgp_packet_next(oi, sizeof(oi), &off, &p, &e), 1);
	assert_int_equal(p.len, 3);

	/* errors */
	static const uint8_t notpkt[] = {0x42};
	off = 0;
	assert_int_equal(pgp_packet_next(notpkt, 1, &off, &p, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "not an OpenPGP packet"));
	static const uint8_t partial[] = {0xC2, 0xE1, 0, 0};
	off = 0;
	assert_int_equal(pgp_packet_next(partial, sizeof(partial), &off, &p, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "partial body length"));
	static const uint8_t trunc_body[] = {0xC2, 0x05, 1, 2};
	off = 0;
	assert_int_equal(pgp_packet_next(trunc_body, sizeof(trunc_body), &off, &p, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "truncated packet (tag 2)"));
	static const uint8_t oversize[] = {0xC2, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0};
	off = 0;
	assert_int_equal(pgp_packet_next(oversize, sizeof(oversize), &off, &p, &e), -ACSO_E_PARSE);
	static const uint8_t hdr_only[][6] = {{0xC2}, {0xC2, 0xC5}, {0xC2, 0xFF, 0, 0}, {0x88}, {0x89, 0}, {0x8A, 0, 0}};
	static const size_t hdr_len[] = {1, 2, 4, 1, 2, 3};
	for (size_t i = 0; i < ARRAY_SIZE(hdr_len); i++) {
		off = 0;
		assert_int_equal(pgp_packet_next(hdr_only[i], hdr_len[i], &off, &p, &e), -ACSO_E_PARSE);
		assert_non_null(strstr(e.msg, "truncated packet header"));
	}
	static const uint8_t tag0[] = {0xC0, 0x00};
	off = 0;
	assert_int_equal(pgp_packet_next(tag0, sizeof(tag0), &off, &p, &e), -ACSO_E_PARSE);
}

/* ---- keys ---- */
static void test_key_parse_errors(void **state)
{
	struct pgp_key k;
	struct acso_err e = {0};
	static const uint8_t v3[] = {3, 0, 0, 0, 0, 1};
	assert_int_equal(pgp_key_parse(v3, sizeof(v3), &k, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "version 3"));
	static const uint8_t dsa[] = {4, 0, 0, 0, 0, 17, 0, 8, 1};
	assert_int_equal(pgp_key_parse(dsa, sizeof(dsa), &k, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "algorithm 17 (DSA)"));
	assert_int_equal(pgp_key_parse(dsa, 0, &k, &e), -ACSO_E_PARSE);
	assert_int_equal(pgp_key_parse(dsa, 3, &k, &e), -ACSO_E_PARSE);
	static const uint8_t rsa_small[] = {4, 0, 0, 0, 0, 1, 0, 8, 0xFF, 0, 2, 3};
	assert_int_equal(pgp_key_parse(rsa_small, sizeof(rsa_small), &k, &e), -ACSO_E_PARSE);
	static const uint8_t rsa_trunc[] = {4, 0, 0, 0, 0, 1, 0x08, 0x00, 0xFF};
	assert_int_equal(pgp_key_parse(rsa_trunc, sizeof(rsa_trunc), &k, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "truncated MPI"));
	static const uint8_t rsa_huge[] = {4, 0, 0, 0, 0, 1, 0xFF, 0xFF};
	assert_int_equal(pgp_key_parse(rsa_huge, sizeof(rsa_huge), &k, &e), -ACSO_E_TOOBIG);
	static const uint8_t ed_other[] = {4, 0, 0, 0, 0, 22, 3, 0x2B, 0x65, 0x70, 0, 8, 0x40};
	assert_int_equal(pgp_key_parse(ed_other, sizeof(ed_other), &k, &e), -ACSO_E_UNSUPPORTED);
	static const uint8_t ed_badoid[] = {4, 0, 0, 0, 0, 22, 0};
	assert_int_equal(pgp_key_parse(ed_badoid, sizeof(ed_badoid), &k, &e), -ACSO_E_PARSE);
	static const uint8_t ed_notnative[] = {4, 0, 0, 0, 0, 22, 9, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01, 0, 8, 0x41};
	assert_int_equal(pgp_key_parse(ed_notnative, sizeof(ed_notnative), &k, &e), -ACSO_E_PARSE);
	static const uint8_t ed27_trunc[] = {4, 0, 0, 0, 0, 27, 1, 2, 3};
	assert_int_equal(pgp_key_parse(ed27_trunc, sizeof(ed27_trunc), &k, &e), -ACSO_E_PARSE);
}

static void test_keyring(void **state)
{
	struct pgp_keyring *kr = ring("keys");
	struct pgp_signer w;
	struct acso_err e = {0};
	assert_int_equal(pgp_keyring_count(kr), 5);
	assert_int_equal(pgp_keyring_find(kr, GREG, &w), 0);
	assert_string_equal(w.fingerprint, GREG);
	assert_string_equal(w.name, "Greg Kroah-Hartman <gregkh@linuxfoundation.org>");
	assert_int_equal(w.pubkey_algo, PGP_PK_RSA);
	assert_int_equal(pgp_keyring_find(kr, "0x79be3e4300411886", &w), 0); /* key id, lower case */
	assert_string_equal(w.fingerprint, LINUS);
	assert_true(startswith(w.name, "Linus Torvalds"));
	assert_int_equal(pgp_keyring_find(kr, "0000000000000000", &w), -ACSO_E_NOKEY);
	assert_int_equal(pgp_keyring_find(kr, "xyz", &w), -ACSO_E_NOKEY);
	assert_int_equal(pgp_keyring_find(kr, "ZZ7F28654894E3BD457199BE38DBBDC86092693E", &w), -ACSO_E_NOKEY);
	assert_int_equal(pgp_keyring_find(kr, NULL, &w), -ACSO_E_NOKEY);
	/* the same keys again add nothing new */
	assert_int_equal(pgp_keyring_add_path(kr, "keys/" GREG ".asc", &e), 0);
	assert_int_equal(pgp_keyring_add_path(kr, "keys", &e), 0);
	assert_int_equal(pgp_keyring_count(kr), 5);
	/* error paths */
	assert_int_equal(pgp_keyring_add_path(kr, "tests/data/nope", &e), -ENOENT);
	assert_int_equal(pgp_keyring_add_path(kr, "tests/unit", &e), -ACSO_E_NOTFOUND);
	assert_int_equal(pgp_keyring_add_path(kr, KO "sign/linux-6.6.tar.sign", &e), -ACSO_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "no 'PGP PUBLIC KEY BLOCK'"));
	assert_int_equal(pgp_keyring_add_data(kr, "\x99\x00", 2, &e), -ACSO_E_PARSE);
	assert_int_equal(pgp_keyring_add_data(kr, "", 0, &e), -ACSO_E_PARSE);
	static const uint8_t uid_only[] = {0xCD, 0x01, 'x'};
	assert_int_equal(pgp_keyring_add_data(kr, uid_only, sizeof(uid_only), &e), -ACSO_E_NOTFOUND);
	static const uint8_t dsa_only[] = {0xC6, 0x09, 4, 0, 0, 0, 0, 17, 0, 8, 1};
	assert_int_equal(pgp_keyring_add_data(kr, dsa_only, sizeof(dsa_only), &e), -ACSO_E_UNSUPPORTED);
	_cleanup_free_ char *big = xcalloc(1, PGP_MAX_KEYFILE + 1);
	assert_int_equal(pgp_keyring_add_data(kr, big, PGP_MAX_KEYFILE + 1, &e), -ACSO_E_TOOBIG);
	/* a broken key file adds nothing, even after good packets */
	size_t n;
	_cleanup_free_ char *rsa = slurp(PD "rsa.gpg", &n);
	struct pgp_keyring *k2 = ring(NULL);
	assert_int_equal(pgp_keyring_add_data(k2, rsa, n - 5, &e), -ACSO_E_PARSE);
	assert_int_equal(pgp_keyring_count(k2), 0);
	assert_int_equal(pgp_keyring_add_data(k2, rsa, n, &e), 1);
	assert_int_equal(pgp_keyring_count(k2), 1);
	pgp_keyring_free(k2);
	pgp_keyring_free(kr);
	pgp_keyring_free(NULL);
}

/* ---- signatures ---- */
static void sig_file(const char *path, struct pgp_sig **s)
{
	size_t n;
	struct acso_err e = {0};
	_cleanup_free_ char *d = slurp(path, &n);
	assert_int_equal(pgp_sig_parse(d, n, s, &e), 0);
}

static void test_sig_info_real(void **state)
{
	struct pgp_sig *s;
	struct pgp_signer w;
	sig_file(KO "sign/linux-3.7.tar.sign", &s);
	pgp_sig_info(s, &w);
	assert_int_equal(w.hash_algo, PGP_HASH_SHA1);
	assert_string_equal(w.fingerprint, "");
	assert_string_equal(w.keyid, "79BE3E4300411886");
	assert_int_equal(pgp_sig_type(s), PGP_SIGTYPE_BINARY);
	pgp_sig_free(s);
	sig_file(KO "sign/linux-6.6.tar.sign", &s);
	pgp_sig_info(s, &w);
	assert_int_equal(w.hash_algo, PGP_HASH_SHA256);
	assert_string_equal(w.fingerprint, GREG);
	assert_int_equal(w.pubkey_algo, PGP_PK_RSA);
	assert_true(w.created > 1698000000);
	pgp_sig_free(s);
	sig_file(KO "sign/linux-4.6.1.tar.sign", &s);
	pgp_sig_info(s, &w);
	assert_int_equal(w.hash_algo, PGP_HASH_SHA256);
	assert_string_equal(w.fingerprint, "");
	assert_string_equal(w.keyid, "38DBBDC86092693E");
	pgp_sig_free(s);
	pgp_sig_free(NULL);
	assert_string_equal(pgp_hash_name(PGP_HASH_SHA512), "SHA512");
	assert_string_equal(pgp_hash_name(99), "unknown");
	assert_string_equal(pgp_pubkey_name(PGP_PK_EDDSA_LEGACY), "EdDSA");
	assert_string_equal(pgp_pubkey_name(99), "unknown");
}

/* A v4 RSA signature body with the given subpackets. */
static size_t mk_sig(uint8_t *b, const uint8_t *hs, size_t hl, const uint8_t *us, size_t ul, int pk)
{
	size_t o = 0;
	b[o++] = 4; b[o++] = 0; b[o++] = (uint8_t)pk; b[o++] = 8;
	b[o++] = (uint8_t)(hl >> 8); b[o++] = (uint8_t)hl;
	memcpy(b + o, hs, hl); o += hl;
	b[o++] = (uint8_t)(ul >> 8); b[o++] = (uint8_t)ul;
	memcpy(b + o, us, ul); o += ul;
	b[o++] = 0xAB; b[o++] = 0xCD;
	b[o++] = 0; b[o++] = 9; b[o++] = 1; b[o++] = 0x55; /* MPI of 9 bits */
	return o;
}

static void test_sig_parse_errors(void **state)
{
	struct pgp_sig s;
	struct acso_err e = {0};
	uint8_t b[512];
	static const uint8_t ct[] = {5, 2, 0, 0, 0, 1};
	static const uint8_t kid[] = {9, 16, 1, 2, 3, 4, 5, 6, 7, 8};
	size_t n = mk_sig(b, ct, sizeof(ct), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), 0);
	assert_true(s.has_keyid);
	assert_false(s.has_fpr);
	assert_int_equal(s.created, 1);
	assert_int_equal(s.hashed_len, 6 + sizeof(ct));
	pgp_sig_clear(&s);
	/* the issuer key id may be in the hashed area too */
	static const uint8_t ct_kid[] = {5, 2, 0, 0, 0, 1, 9, 16, 8, 7, 6, 5, 4, 3, 2, 1};
	size_t n2 = mk_sig(b, ct_kid, sizeof(ct_kid), kid, 0, 1);
	assert_int_equal(pgp_sig_parse_body(b, n2, &s, &e), 0);
	assert_true(s.has_keyid);
	assert_int_equal(s.keyid[0], 8);
	pgp_sig_clear(&s);
	n = mk_sig(b, ct, sizeof(ct), kid, sizeof(kid), 1);
	/* every truncation is an error, never a crash */
	for (size_t i = 0; i < n; i++)
		assert_true(pgp_sig_parse_body(b, i, &s, &e) < 0);
	/* stray bytes */
	b[n] = 0;
	assert_int_equal(pgp_sig_parse_body(b, n + 1, &s, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "stray"));
	/* versions and algorithms */
	b[0] = 3;
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_UNSUPPORTED);
	b[0] = 5;
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_UNSUPPORTED);
	b[0] = 4;
	n = mk_sig(b, ct, sizeof(ct), kid, sizeof(kid), 17);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "DSA"));
	/* malformed subpackets */
	static const uint8_t ct_bad[] = {4, 2, 0, 0, 0};
	n = mk_sig(b, ct_bad, sizeof(ct_bad), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	static const uint8_t kid_bad[] = {5, 16, 1, 2, 3, 4};
	n = mk_sig(b, ct, sizeof(ct), kid_bad, sizeof(kid_bad), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	static const uint8_t zero[] = {0};
	n = mk_sig(b, zero, sizeof(zero), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	static const uint8_t overrun[] = {9, 16, 1};
	n = mk_sig(b, overrun, sizeof(overrun), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	static const uint8_t fpr_bad[] = {6, 33, 4, 1, 2, 3, 4};
	n = mk_sig(b, fpr_bad, sizeof(fpr_bad), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	static const uint8_t two_len[] = {192, 0};
	n = mk_sig(b, two_len, sizeof(two_len), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	static const uint8_t five_len[] = {255, 0, 0};
	n = mk_sig(b, five_len, sizeof(five_len), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), -ACSO_E_PARSE);
	/* an unknown critical subpacket is remembered, an unknown plain one ignored */
	static const uint8_t crit[] = {2, 0x80 | 99, 0, 5, 2, 0, 0, 0, 1};
	n = mk_sig(b, crit, sizeof(crit), kid, sizeof(kid), 1);
	assert_int_equal(pgp_sig_parse_body(b, n, &s, &e), 0);
	assert_true(s.unknown_critical);
	pgp_sig_clear(&s);

	/* pgp_sig_parse: the outer layer */
	struct pgp_sig *sp;
	assert_int_equal(pgp_sig_parse("garbage", 7, &sp, &e), -ACSO_E_PARSE);
	assert_null(sp);
	assert_int_equal(pgp_sig_parse("", 0, &sp, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "no signature packet"));
	static const uint8_t uid[] = {0xCD, 0x01, 'x'};
	assert_int_equal(pgp_sig_parse(uid, sizeof(uid), &sp, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "tag 13"));
	_cleanup_free_ char *big = xcalloc(1, PGP_MAX_SIGFILE + 1);
	assert_int_equal(pgp_sig_parse(big, PGP_MAX_SIGFILE + 1, &sp, &e), -ACSO_E_TOOBIG);
	size_t kl;
	_cleanup_free_ char *key = slurp(PD "ed.asc", &kl);
	assert_int_equal(pgp_sig_parse(key, kl, &sp, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "PUBLIC KEY BLOCK"));
	/* a marker packet before the signature is skipped */
	size_t sl;
	_cleanup_free_ char *sig = slurp(PD "ed-bin.sig", &sl);
	uint8_t withmarker[512] = {0xCA, 0x03, 'P', 'G', 'P'};
	memcpy(withmarker + 5, sig, sl);
	assert_int_equal(pgp_sig_parse(withmarker, sl + 5, &sp, &e), 0);
	pgp_sig_free(sp);
}

/* ---- verification ---- */
static int verify_file(const char *data, const char *sigpath, const char *keys, struct pgp_signer *w,
		       size_t chunk)
{
	size_t dl;
	struct acso_err e = {0};
	_cleanup_free_ char *d = slurp(data, &dl);
	struct pgp_sig *s;
	sig_file(sigpath, &s);
	struct pgp_keyring *kr = ring(keys);
	struct pgp_verify *v;
	int r = pgp_verify_begin(s, &v, &e);
	if (r == 0) {
		for (size_t o = 0; o < dl; o += chunk)
			pgp_verify_update(v, d + o, dl - o < chunk ? dl - o : chunk);
		r = pgp_verify_end(v, kr, w, &e);
	}
	pgp_keyring_free(kr);
	pgp_sig_free(s);
	return r;
}

static void test_verify_good(void **state)
{
	struct pgp_signer w;
	/* Ed25519 (22), binary, in pieces of every size */
	for (size_t c = 1; c < 8; c++)
		assert_int_equal(verify_file(PD "msg.txt", PD "ed-bin.sig", PD "ed.asc", &w, c), 0);
	assert_string_equal(w.name, "Unit Ed <unit-ed@example.org>");
	assert_int_equal(w.pubkey_algo, PGP_PK_EDDSA_LEGACY);
	assert_int_equal(strlen(w.fingerprint), 40);
	assert_int_equal(verify_file(PD "msg.txt", PD "ed-bin.asc", PD "ed.asc", &w, 1000), 0);
	/* text signature, SHA-512, fed one byte at a time (CR/LF split across pieces) */
	assert_int_equal(verify_file(PD "msg.txt", PD "ed-text.asc", PD "ed.asc", &w, 1), 0);
	assert_int_equal(w.hash_algo, PGP_HASH_SHA512);
	/* RSA, SHA-1, binary key file: the maths holds, the hash is refused
	 * (issue 15 C12; changed data stays BAD in test_verify_bad) */
	assert_int_equal(verify_file(PD "msg.txt", PD "rsa-bin.sig", PD "rsa.gpg", &w, 3), -ACSO_E_UNSAFE);
	assert_int_equal(w.hash_algo, PGP_HASH_SHA1);
	assert_string_equal(w.name, "Unit RSA <unit-rsa@example.org>");
	/* RSA with a signature value a byte shorter than the modulus: left-padded */
	struct pgp_sig *s;
	sig_file(PD "rsa-short.sig", &s);
	assert_int_equal(s->m1len, 255);
	pgp_sig_free(s);
	assert_int_equal(verify_file(PD "msg-short.txt", PD "rsa-short.sig", PD "rsa-short.gpg", &w, 4096), 0);
	assert_int_equal(verify_file(PD "msg.txt", PD "rsa-short.sig", PD "rsa-short.gpg", &w, 4096), -ACSO_E_BADSIG);
	/* Ed25519 as RFC 9580 algorithm 27 */
	assert_int_equal(verify_file(PD "msg.txt", PD "ed27-bin.sig", PD "ed27.gpg", &w, 5), 0);
	assert_string_equal(w.fingerprint, "2A3E28476729553A6ED6772C29B7784F438A662A");
	assert_int_equal(w.pubkey_algo, PGP_PK_ED25519);
	/* one-call helper */
	size_t dl, sl;
	struct acso_err e = {0};
	_cleanup_free_ char *d = slurp(PD "msg.txt", &dl);
	_cleanup_free_ char *sg = slurp(PD "ed-bin.sig", &sl);
	struct pgp_keyring *kr = ring(PD "ed.asc");
	assert_int_equal(pgp_verify_detached(d, dl, sg, sl, kr, NULL, &e), 0);
	assert_int_equal(pgp_verify_detached(d, dl - 1, sg, sl, kr, NULL, &e), -ACSO_E_BADSIG);
	assert_int_equal(pgp_verify_detached(d, dl, "x", 1, kr, NULL, &e), -ACSO_E_PARSE);
	pgp_keyring_free(kr);
}

static void test_verify_bad(void **state)
{
	struct pgp_signer w;
	struct acso_err e = {0};
	/* real kernel.org signatures over other data: BAD by the right key */
	assert_int_equal(verify_file(PD "msg.txt", KO "sign/linux-4.18.tar.sign", "keys", &w, 64), -ACSO_E_BADSIG);
	assert_string_equal(w.fingerprint, LINUS);
	assert_int_equal(verify_file(PD "msg.txt", KO "sign/linux-5.10.tar.sign", "keys", &w, 64), -ACSO_E_BADSIG);
	assert_string_equal(w.fingerprint, GREG);
	assert_true(startswith(w.name, "Greg Kroah-Hartman"));
	/* a key that is not in the keyring */
	assert_int_equal(verify_file(PD "msg.txt", PD "ed-bin.sig", "keys", &w, 64), -ACSO_E_NOKEY);
	assert_int_equal(strlen(w.fingerprint), 40); /* the issuer, from the subpacket */
	assert_string_equal(w.name, "");
	/* a signature whose digest prefix matches but whose value does not */
	size_t dl, sl;
	_cleanup_free_ char *d = slurp(PD "msg.txt", &dl);
	_cleanup_free_ char *sg = slurp(PD "ed-bin.sig", &sl);
	sg[sl - 1] ^= 1;
	struct pgp_keyring *kr = ring(PD "ed.asc");
	assert_int_equal(pgp_verify_detached(d, dl, sg, sl, kr, &w, &e), -ACSO_E_BADSIG);
	assert_non_null(strstr(e.msg, "BAD signature from 'Unit Ed"));
	pgp_keyring_free(kr);
	_cleanup_free_ char *rs = slurp(PD "rsa-bin.sig", &sl);
	rs[sl - 1] ^= 1;
	kr = ring(PD "rsa.gpg");
	assert_int_equal(pgp_verify_detached(d, dl, rs, sl, kr, &w, &e), -ACSO_E_BADSIG);
	pgp_keyring_free(kr);
	/* a signature made by an RSA key id but claiming EdDSA is BAD, not good */
	struct pgp_sig *s;
	sig_file(PD "rsa-bin.sig", &s);
	kr = ring(PD "ed.asc");
	assert_int_equal(pgp_keyring_add_path(kr, PD "rsa.gpg", &e), 1);
	s->pkalgo = PGP_PK_EDDSA_LEGACY;
	struct pgp_verify *v;
	assert_int_equal(pgp_verify_begin(s, &v, &e), 0);
	pgp_verify_update(v, d, dl);
	assert_int_equal(pgp_verify_end(v, kr, &w, &e), -ACSO_E_BADSIG);
	/* unsupported signature type and hash */
	s->pkalgo = PGP_PK_RSA;
	s->type = 0x13;
	assert_int_equal(pgp_verify_begin(s, &v, &e), -ACSO_E_UNSUPPORTED);
	assert_null(v);
	s->type = 0;
	s->hashalgo = 1;
	assert_int_equal(pgp_verify_begin(s, &v, &e), -ACSO_E_UNSUPPORTED);
	s->hashalgo = PGP_HASH_SHA1;
	s->unknown_critical = true;
	assert_int_equal(pgp_verify_begin(s, &v, &e), 0);
	pgp_verify_update(v, d, dl);
	assert_int_equal(pgp_verify_end(v, kr, &w, &e), -ACSO_E_UNSUPPORTED);
	s->unknown_critical = false;
	s->has_keyid = s->has_fpr = false;
	assert_int_equal(pgp_verify_begin(s, &v, &e), 0);
	assert_int_equal(pgp_verify_end(v, kr, NULL, &e), -ACSO_E_NOKEY);
	assert_non_null(strstr(e.msg, "does not name its issuer"));
	pgp_keyring_free(kr);
	pgp_sig_free(s);
}

static void test_subkey_binding(void **state)
{
	struct pgp_signer w;
	struct acso_err e = {0};
	/* a cert-only primary with an Ed25519 signing subkey bound to it */
	assert_int_equal(verify_file(PD "msg.txt", PD "sub-bin.sig", PD "sub.gpg", &w, 100), 0);
	assert_string_equal(w.fingerprint, "75EC59AC8F0FB6611635E28E84BDA6D33492E8B7");
	assert_string_equal(w.keyid, "5B23A283FB82252F");
	assert_string_equal(w.name, "Unit Sub <unit-sub@example.org>");
	/* the same key with the binding signature broken: the subkey is not used */
	size_t kl, dl, sl;
	_cleanup_free_ char *key = slurp(PD "sub.gpg", &kl);
	_cleanup_free_ char *d = slurp(PD "msg.txt", &dl);
	_cleanup_free_ char *sg = slurp(PD "sub-bin.sig", &sl);
	size_t off = 0, last_sig = 0;
	struct pgp_pkt p;
	while (pgp_packet_next((uint8_t *)key, kl, &off, &p, NULL) > 0)
		if (p.tag == 2)
			last_sig = (size_t)(p.body - (uint8_t *)key) + p.len - 1;
	assert_true(last_sig > 0);
	key[last_sig] ^= 0x01;
	struct pgp_keyring *kr = ring(NULL);
	assert_int_equal(pgp_keyring_add_data(kr, key, kl, &e), 1);
	assert_int_equal(pgp_verify_detached(d, dl, sg, sl, kr, &w, &e), -ACSO_E_NOKEY);
	assert_non_null(strstr(e.msg, "no valid binding signature"));
	pgp_keyring_free(kr);
	/* without any binding signature at all */
	kr = ring(NULL);
	size_t cut = last_sig + 1 - 239 - 2; /* drop the binding packet (header + body) */
	assert_int_equal(pgp_keyring_add_data(kr, key, cut, &e), 1);
	assert_int_equal(pgp_verify_detached(d, dl, sg, sl, kr, &w, &e), -ACSO_E_NOKEY);
	pgp_keyring_free(kr);
}

/* ---- cleartext ---- */
static void test_cleartext_real(void **state)
{
	size_t n, bl;
	struct acso_err e = {0};
	struct pgp_signer w;
	char *body;
	_cleanup_free_ char *t = slurp(KO "v4.x-sha256sums.asc", &n);
	struct pgp_keyring *kr = ring("keys");
	assert_true(pgp_is_cleartext(t, n));
	assert_int_equal(pgp_verify_cleartext(t, n, kr, &body, &bl, &w, &e), 0);
	assert_string_equal(w.fingerprint, AUTO);
	assert_string_equal(w.keyid, "632D3A06589DA6B1");
	assert_int_equal(w.hash_algo, PGP_HASH_SHA256);
	assert_int_equal(strlen(body), bl);
	assert_non_null(strstr(body, "  linux-4.9.tar.xz\n"));
	assert_null(strstr(body, "BEGIN PGP"));
	free(body);
	/* one digit changed: BAD, and no body handed out */
	size_t at = (size_t)(strstr(t, "  linux-4.9.tar.xz") - t) - 64 + 10;
	char orig = t[at];
	t[at] = orig == '0' ? '1' : '0';
	body = (char *)1;
	assert_int_equal(pgp_verify_cleartext(t, n, kr, &body, &bl, &w, &e), -ACSO_E_BADSIG);
	assert_null(body);
	assert_string_equal(w.fingerprint, AUTO);
	/* body pointers may be NULL */
	t[at] = orig;
	assert_int_equal(pgp_verify_cleartext(t, n, kr, NULL, NULL, NULL, &e), 0);
	pgp_keyring_free(kr);
}

static void test_cleartext_errors(void **state)
{
	struct acso_err e = {0};
	size_t n;
	_cleanup_free_ char *good = slurp(PD "ed-clear.asc", &n);
	struct pgp_keyring *kr = ring(PD "ed.asc");
	char *body;
	size_t bl;
	assert_int_equal(pgp_verify_cleartext(good, n, kr, &body, &bl, NULL, &e), 0);
	assert_string_equal(body, "acso unit test\nsecond line\n"); /* trailing spaces stripped */
	free(body);

	const char *sig = strstr(good, "-----BEGIN PGP SIGNATURE-----");
	struct { const char *head; int want; const char *msg; } cases[] = {
		{"hello\n", -ACSO_E_PARSE, "no '-----BEGIN PGP SIGNED MESSAGE-----'"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256", -ACSO_E_PARSE, "no blank line"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nCharset: x\n\nacso unit test\n", -ACSO_E_PARSE, "unexpected header"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\nHash: SHA1\n\nx\n", -ACSO_E_PARSE, "more than one"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\nacso unit test\nsecond line\n", -ACSO_E_PARSE, "does not list SHA256"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nacso unit test\nsecond Line\n", -ACSO_E_BADSIG, "BAD"},
		{"intro text\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512, SHA256\n\n- acso unit test\nsecond line \t\r\n", 0, NULL},
		{"-----BEGIN PGP SIGNED MESSAGE-----\n\nacso unit test\nsecond line\n", 0, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *t = xasprintf("%s%s", cases[i].head, i < 2 ? "" : sig);
		err_clear(&e);
		assert_int_equal(pgp_verify_cleartext(t, strlen(t), kr, NULL, NULL, NULL, &e), cases[i].want);
		if (cases[i].msg)
			assert_non_null(strstr(e.msg, cases[i].msg));
	}
	/* no signature block after the text */
	static const char nosig[] = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntext\n";
	assert_int_equal(pgp_verify_cleartext(nosig, strlen(nosig), kr, NULL, NULL, NULL, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "no '-----BEGIN PGP SIGNATURE-----'"));
	/* a binary (0x00) signature in cleartext framing */
	size_t bn;
	_cleanup_free_ char *bin = slurp(PD "ed-bin.asc", &bn);
	_cleanup_free_ char *t0 = xasprintf("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nacso unit test\n%s", bin);
	assert_int_equal(pgp_verify_cleartext(t0, strlen(t0), kr, NULL, NULL, NULL, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "expected 0x01"));
	/* a broken signature block */
	_cleanup_free_ char *tb = xasprintf("-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n");
	assert_int_equal(pgp_verify_cleartext(tb, strlen(tb), kr, NULL, NULL, NULL, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "cleartext signature"));
	/* size limit, and a key that is not there */
	assert_int_equal(pgp_verify_cleartext(good, PGP_MAX_CLEARTEXT + 1, kr, NULL, NULL, NULL, &e), -ACSO_E_TOOBIG);
	struct pgp_keyring *other = ring("keys");
	assert_int_equal(pgp_verify_cleartext(good, n, other, NULL, NULL, NULL, &e), -ACSO_E_NOKEY);
	pgp_keyring_free(other);
	assert_false(pgp_is_cleartext("x", 1));
	pgp_keyring_free(kr);
}

/* ---- sigfile.c ---- */
static void put_file(const char *path, const char *data, size_t len)
{
	assert_true(write_file_atomic(AT_FDCWD, path, data, len, 0644, 0) >= 0);
}

static void test_check_file(void **state)
{
	struct pgp_keyring *ed = ring(PD "ed.asc");
	struct pgp_file_check c;
	struct acso_err e = {0};
	/* a detached signature, given */
	assert_int_equal(pgp_check_file(PD "msg.txt", PD "ed-bin.sig", ed, 0, &c, &e), 0);
	assert_string_equal(c.kind, "detached");
	assert_string_equal(c.sig, PD "ed-bin.sig");
	assert_true(c.have_info);
	assert_non_null(c.issuer_by);
	assert_null(c.decompressed);
	pgp_file_check_free(&c);
	/* cleartext-signed */
	assert_int_equal(pgp_check_file(PD "ed-clear.asc", NULL, ed, 0, &c, &e), 0);
	assert_string_equal(c.kind, "cleartext");
	assert_null(c.sig);
	pgp_file_check_free(&c);

	char tmpl[] = "/tmp/acso-sigfile.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	size_t mlen, slen;
	_cleanup_free_ char *msg = slurp(PD "msg.txt", &mlen);
	_cleanup_free_ char *sig = slurp(PD "ed-bin.sig", &slen);
	/* found next to the file; changed data is BAD */
	_cleanup_free_ char *f = path_join(tmpl, "m.txt"), *fs = path_join(tmpl, "m.txt.sig");
	put_file(f, msg, mlen);
	put_file(fs, sig, slen);
	assert_int_equal(pgp_check_file(f, NULL, ed, 0, &c, &e), 0);
	assert_string_equal(c.sig, fs);
	pgp_file_check_free(&c);
	put_file(f, "changed\n", 8);
	assert_int_equal(pgp_check_file(f, NULL, ed, 0, &c, &e), -ACSO_E_BADSIG);
	pgp_file_check_free(&c);
	/* no signature at all */
	assert_int_equal(unlink(fs), 0);
	assert_int_equal(pgp_check_file(f, NULL, ed, 0, &c, &e), -ACSO_E_PARSE);
	assert_true(c.no_signature);
	assert_string_equal(c.kind, "unknown");
	pgp_file_check_free(&c);
	/* m.tar.xz with m.tar.sig: the signature covers the decompressed data */
	struct buf xz = {0};
	int status = 0;
	const char *argv[] = {"xz", "-c", PD "msg.txt", NULL};
	assert_int_equal(spawn_run(argv, &(struct spawn_opts){.log_fd = -1, .capture = &xz}, &status), 0);
	_cleanup_free_ char *tx = path_join(tmpl, "m.tar.xz"), *ts = path_join(tmpl, "m.tar.sig");
	put_file(tx, xz.data, xz.len);
	put_file(ts, sig, slen);
	buf_free(&xz);
	assert_int_equal(pgp_check_file(tx, NULL, ed, 0, &c, &e), 0);
	assert_string_equal(c.sig, ts);
	assert_string_equal(c.decompressed, "xz");
	pgp_file_check_free(&c);
	/* named m.tar.xz.sig it is taken as over the compressed file: BAD */
	_cleanup_free_ char *txs = path_join(tmpl, "m.tar.xz.sig");
	put_file(txs, sig, slen);
	assert_int_equal(pgp_check_file(tx, txs, ed, 0, &c, &e), -ACSO_E_BADSIG);
	assert_null(c.decompressed);
	pgp_file_check_free(&c);
	rm_rf_at(AT_FDCWD, tmpl);
	pgp_keyring_free(ed);
}

/* ---- key validity and roles (issue 15 C9, C11, C12) ---- */
#define PV PD "policy/"

/* Verify PV sig over PV data with the key files given, in that order. */
static int verify_policy(const char *sig, struct acso_err *e, ...)
{
	size_t dl, sl;
	_cleanup_free_ char *d = slurp(PV "data", &dl);
	_cleanup_free_ char *sg = slurp(sig, &sl);
	struct pgp_keyring *kr = ring(NULL);
	va_list ap;
	va_start(ap, e);
	for (const char *k; (k = va_arg(ap, const char *));)
		assert_true(pgp_keyring_add_path(kr, k, e) >= 0);
	va_end(ap);
	int r = pgp_verify_detached(d, dl, sg, sl, kr, NULL, e);
	pgp_keyring_free(kr);
	return r;
}

static void test_key_validity(void **state)
{
	struct acso_err e = {0};
	/* the older binding alone: the subkey never expires, its signature holds */
	assert_int_equal(verify_policy(PV "super.sig", &e, PV "super-old.asc", NULL), 0);
	/* the newer binding wins, whichever export comes first, in one file or two */
	assert_int_equal(verify_policy(PV "super.sig", &e, PV "super-old.asc", PV "super-new.asc", NULL),
			 -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "subkey"));
	assert_non_null(strstr(e.msg, "expired on 2020-01-02T00:01:00Z"));
	assert_int_equal(verify_policy(PV "super.sig", &e, PV "super-new.asc", PV "super-old.asc", NULL),
			 -ACSO_E_UNSAFE);
	size_t a, b;
	_cleanup_free_ char *old = slurp(PV "super-old.asc", &a), *nw = slurp(PV "super-new.asc", &b);
	char both[16384];
	assert_true(a + b < sizeof(both));
	memcpy(both, old, a);
	memcpy(both + a, nw, b);
	struct pgp_keyring *kr = ring(NULL);
	assert_int_equal(pgp_keyring_add_data(kr, both, a + b, &e), 1); /* one key, merged */
	pgp_keyring_free(kr);
	/* revoked key, revoked subkey */
	assert_int_equal(verify_policy(PV "revoked.sig", &e, PV "revoked.asc", NULL), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "whose key"));
	assert_non_null(strstr(e.msg, "was revoked on"));
	assert_int_equal(verify_policy(PV "subrev.sig", &e, PV "subrev.asc", NULL), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "whose subkey"));
	assert_non_null(strstr(e.msg, "was revoked on"));
	/* expired before it signed, and expired since */
	assert_int_equal(verify_policy(PV "lapsed.sig", &e, PV "lapsed.asc", NULL), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "expired on 2020-01-02T00:01:00Z"));
	assert_int_equal(verify_policy(PV "expired.sig", &e, PV "expired.asc", NULL), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "expired on 2020-01-02T00:00:00Z"));
	/* changed data is BAD before any of that */
	size_t sl;
	_cleanup_free_ char *sg = slurp(PV "revoked.sig", &sl);
	kr = ring(PV "revoked.asc");
	assert_int_equal(pgp_verify_detached("x", 1, sg, sl, kr, NULL, &e), -ACSO_E_BADSIG);
	pgp_keyring_free(kr);
}

static void test_roles(void **state)
{
	size_t n;
	struct acso_err e = {0};
	struct pgp_signer w;
	_cleanup_free_ char *t = slurp(KO "v4.x-sha256sums.asc", &n);
	struct pgp_keyring *kr = ring("keys");
	assert_int_equal(pgp_verify_cleartext_as(t, n, kr, PGP_ROLE_SUMS, NULL, NULL, &w, &e), 0);
	assert_int_equal(w.roles, PGP_ROLE_SUMS);
	/* the autosigner vouching for a release: the maths holds, the role does not */
	assert_int_equal(pgp_verify_cleartext_as(t, n, kr, PGP_ROLE_RELEASE, NULL, NULL, &w, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "signs the checksum files, not releases"));
	assert_int_equal(pgp_verify_cleartext_as(t, n, kr, PGP_ROLE_ANY, NULL, NULL, &w, &e), 0);
	/* the release signers are pinned too; any other key may sign for both */
	struct pgp_signer g;
	assert_int_equal(pgp_keyring_find(kr, GREG, &g), 0);
	pgp_keyring_free(kr);
	kr = ring(PD "ed.asc");
	size_t dl, sl;
	_cleanup_free_ char *d = slurp(PD "msg.txt", &dl), *sg = slurp(PD "ed-bin.sig", &sl);
	assert_int_equal(pgp_verify_detached_as(d, dl, sg, sl, kr, PGP_ROLE_SUMS, &w, &e), 0);
	assert_int_equal(pgp_verify_detached_as(d, dl, sg, sl, kr, PGP_ROLE_RELEASE, &w, &e), 0);
	assert_int_equal(w.roles, PGP_ROLE_ANY);
	pgp_keyring_free(kr);
	assert_string_equal(pgp_role_name(PGP_ROLE_SUMS), "checksums");
	assert_string_equal(pgp_role_name(PGP_ROLE_RELEASE), "release");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_crc24),
		cmocka_unit_test(test_armor),
		cmocka_unit_test(test_packet_framing),
		cmocka_unit_test(test_key_parse_errors),
		cmocka_unit_test(test_keyring),
		cmocka_unit_test(test_sig_info_real),
		cmocka_unit_test(test_sig_parse_errors),
		cmocka_unit_test(test_verify_good),
		cmocka_unit_test(test_verify_bad),
		cmocka_unit_test(test_subkey_binding),
		cmocka_unit_test(test_cleartext_real),
		cmocka_unit_test(test_cleartext_errors),
		cmocka_unit_test(test_check_file),
		cmocka_unit_test(test_key_validity),
		cmocka_unit_test(test_roles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
