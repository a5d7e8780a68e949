/* hash.h — a small streaming digest wrapper (SHA-1, SHA-256, SHA-512) over
 * OpenSSL EVP, so that no other file needs OpenSSL's headers.
 *
 *   struct hash *h = hash_new("sha256");
 *   hash_update(h, buf, n); ...
 *   char hex[HASH_HEX_MAX]; hash_final_hex(h, hex);   // frees h
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define HASH_MAX_LEN 64                    /* bytes of the longest digest */
#define HASH_HEX_MAX (2 * HASH_MAX_LEN + 1)

struct hash;

/* "sha1", "sha256", "sha512" (also "sha224", "sha384"; case-insensitive).
 * NULL for an unknown name. */
struct hash *hash_new(const char *name);
void hash_update(struct hash *h, const void *data, size_t len);
/* Digest length in bytes (20, 32, 64, ...). */
size_t hash_len(const struct hash *h);
/* Raw digest into out (hash_len bytes); frees h. Returns the length. */
size_t hash_final(struct hash *h, uint8_t out[HASH_MAX_LEN]);
/* Lower-case hex into hex (2*len+1 bytes, NUL-terminated); frees h. */
void hash_final_hex(struct hash *h, char hex[HASH_HEX_MAX]);
/* Free without finishing (on error paths). NULL is fine. */
void hash_free(struct hash *h);

/* One-shot helper: hex digest of a buffer. 0, or -EINVAL for an unknown name. */
int hash_buf_hex(const char *name, const void *data, size_t len, char hex[HASH_HEX_MAX]);
/* Compare two hex digests, case-insensitive, in constant time. 1 equal. */
int hash_hex_equal(const char *a, const char *b);
