/* hash.c — streaming SHA-1/SHA-256/SHA-512 over OpenSSL EVP (see hash.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "base/hash.h"
#include "base/util.h"

struct hash {
	EVP_MD_CTX *md;
	size_t len;
};

static const EVP_MD *md_by_name(const char *name)
{
	if (!name)
		return NULL;
	if (!strcasecmp(name, "sha1") || !strcasecmp(name, "sha-1"))
		return EVP_sha1();
	if (!strcasecmp(name, "sha256") || !strcasecmp(name, "sha-256"))
		return EVP_sha256();
	if (!strcasecmp(name, "sha512") || !strcasecmp(name, "sha-512"))
		return EVP_sha512();
	if (!strcasecmp(name, "sha384") || !strcasecmp(name, "sha-384"))
		return EVP_sha384();
	if (!strcasecmp(name, "sha224") || !strcasecmp(name, "sha-224"))
		return EVP_sha224();
	return NULL;
}

struct hash *hash_new(const char *name)
{
	const EVP_MD *md = md_by_name(name);
	if (!md)
		return NULL;
	struct hash *h = xcalloc(1, sizeof(*h));
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, md, NULL) != 1)
		abort(); /* out of memory inside OpenSSL: not recoverable */
	h->len = (size_t)EVP_MD_get_size(md);
	return h;
}

void hash_update(struct hash *h, const void *data, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->md, data, len);
}

size_t hash_len(const struct hash *h)
{
	return h->len;
}

void hash_free(struct hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

size_t hash_final(struct hash *h, uint8_t out[HASH_MAX_LEN])
{
	unsigned n = 0;
	EVP_DigestFinal_ex(h->md, out, &n);
	hash_free(h);
	return n;
}

void hash_final_hex(struct hash *h, char hex[HASH_HEX_MAX])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t d[HASH_MAX_LEN];
	size_t n = hash_final(h, d);
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

int hash_buf_hex(const char *name, const void *data, size_t len, char hex[HASH_HEX_MAX])
{
	struct hash *h = hash_new(name);
	if (!h)
		return -EINVAL;
	hash_update(h, data, len);
	hash_final_hex(h, hex);
	return 0;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int hash_hex_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb || la == 0)
		return 0;
	unsigned diff = 0;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned)(lower((unsigned char)a[i]) ^ lower((unsigned char)b[i]));
	return diff == 0;
}
