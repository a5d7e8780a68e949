/* armor.c — OpenPGP ASCII armor (RFC 4880 §6): base64 with a CRC24 line.
 * Text before the BEGIN line is skipped (key files from kernel.org's pgpkeys
 * repository start with a description); armor headers are skipped; the
 * checksum line is optional but must match when present. */
#include <errno.h>
#include <string.h>

#include "pgp/pgp-int.h"
#include "base/util.h"

#define CRC24_INIT 0xB704CEu
#define CRC24_POLY 0x1864CFBu

uint32_t pgp_crc24(const uint8_t *d, size_t n)
{
	uint32_t crc = CRC24_INIT;
	while (n--) {
		crc ^= (uint32_t)(*d++) << 16;
		for (int i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000)
				crc ^= CRC24_POLY;
		}
	}
	return crc & 0xFFFFFFu;
}

static const char BEGIN[] = "-----BEGIN PGP ";
static const char END[] = "-----END PGP ";

/* Find s at the start of a line in [p, end). */
static const char *find_line_start(const char *p, const char *end, const char *s)
{
	size_t sl = strlen(s);
	const char *q = p;
	while (q && (size_t)(end - q) >= sl) {
		if ((q == p || q[-1] == '\n') && !memcmp(q, s, sl))
			return q;
		q = memchr(q, '\n', (size_t)(end - q));
		if (q)
			q++;
	}
	return NULL;
}

bool pgp_looks_armored(const void *data, size_t len)
{
	const char *p = data;
	return find_line_start(p, p + len, BEGIN) != NULL;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decode base64 from [p, end) into b; whitespace ignored, '=' ends. */
static int b64_decode(const char *p, const char *end, struct buf *b)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	for (; p < end; p++) {
		int c = (unsigned char)*p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			uint8_t byte = (uint8_t)(acc >> bits);
			buf_append(b, &byte, 1);
		}
	}
	/* Leftover bits must be the zero padding of a 2- or 3-char tail. */
	if (bits >= 6 || pad > 2)
		return -1;
	return 0;
}

int pgp_armor_decode(const char *text, size_t len, char type[64], uint8_t **out,
		     size_t *outlen, size_t *consumed, struct acso_err *e)
{
	const char *end = text + len;
	const char *b = find_line_start(text, end, BEGIN);
	if (!b)
		return err_set(e, -ACSO_E_NOTFOUND, "no '-----BEGIN PGP' armor line");
	const char *eol = memchr(b, '\n', (size_t)(end - b));
	if (!eol)
		return err_set(e, -ACSO_E_PARSE, "armor: nothing after the BEGIN line");
	/* type: between "BEGIN PGP " and the closing "-----" */
	const char *t = b + strlen(BEGIN), *te = eol;
	while (te > t && (te[-1] == '\r' || te[-1] == ' ' || te[-1] == '\t'))
		te--;
	if (te - t < 5 || memcmp(te - 5, "-----", 5) || te - 5 - t >= 64 || te - 5 == t)
		return err_set(e, -ACSO_E_PARSE, "armor: malformed BEGIN line");
	memcpy(type, t, (size_t)(te - 5 - t));
	type[te - 5 - t] = '\0';

	/* Headers ("Version: ...", "Comment: ...") up to the first blank line. */
	const char *p = eol + 1;
	for (;;) {
		if (p >= end)
			return err_set(e, -ACSO_E_PARSE, "armor: truncated before the data");
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *s = p;
		while (s < le && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s == le) {
			p = nl ? nl + 1 : end;
			break;
		}
		if (!memchr(p, ':', (size_t)(le - p))) {
			/* No header and no blank line: tolerate data right away
			 * (some writers omit the blank line). */
			break;
		}
		p = nl ? nl + 1 : end;
	}

	const char *endl = find_line_start(p, end, END);
	if (!endl)
		return err_set(e, -ACSO_E_PARSE, "armor: no '-----END PGP %s-----' line", type);
	/* The END type must match the BEGIN type. */
	size_t tl = strlen(type);
	if ((size_t)(end - endl) < strlen(END) + tl + 5 ||
	    memcmp(endl + strlen(END), type, tl) || memcmp(endl + strlen(END) + tl, "-----", 5))
		return err_set(e, -ACSO_E_PARSE, "armor: END line does not match 'BEGIN PGP %s'", type);

	/* The checksum line: '=' followed by 4 base64 characters, alone on a
	 * line, the last line before END. */
	const char *data_end = endl;
	const char *crcline = NULL;
	{
		/* back up over blank lines to the last line with text */
		const char *q = endl;
		while (q > p && (q[-1] == '\n' || q[-1] == '\r' || q[-1] == ' ' || q[-1] == '\t'))
			q--;
		const char *ls = q;
		while (ls > p && ls[-1] != '\n')
			ls--;
		if (ls < q && *ls == '=') {
			crcline = ls;
			data_end = ls;
		}
	}

	struct buf bin = {0};
	if (b64_decode(p, data_end, &bin) < 0) {
		buf_free(&bin);
		return err_set(e, -ACSO_E_PARSE, "armor: invalid base64");
	}
	if (bin.len == 0) {
		buf_free(&bin);
		return err_set(e, -ACSO_E_PARSE, "armor: no data");
	}
	if (crcline) {
		const char *ce = memchr(crcline, '\n', (size_t)(end - crcline));
		if (!ce)
			ce = end;
		while (ce > crcline && (ce[-1] == '\r' || ce[-1] == ' ' || ce[-1] == '\t'))
			ce--;
		struct buf c = {0};
		if (ce - crcline != 5 || b64_decode(crcline + 1, ce, &c) < 0 || c.len != 3) {
			buf_free(&c);
			buf_free(&bin);
			return err_set(e, -ACSO_E_PARSE, "armor: malformed checksum line");
		}
		uint32_t want = ((uint32_t)(uint8_t)c.data[0] << 16) |
				((uint32_t)(uint8_t)c.data[1] << 8) | (uint8_t)c.data[2];
		buf_free(&c);
		uint32_t got = pgp_crc24((const uint8_t *)bin.data, bin.len);
		if (want != got) {
			buf_free(&bin);
			return err_set(e, -ACSO_E_PARSE, "armor: CRC24 checksum mismatch (says %06X, data has %06X)",
				       want, got);
		}
	}
	const char *after = memchr(endl, '\n', (size_t)(end - endl));
	*consumed = after ? (size_t)(after + 1 - text) : len;
	*out = (uint8_t *)bin.data;
	*outlen = bin.len;
	return 0;
}
