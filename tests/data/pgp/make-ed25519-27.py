#!/usr/bin/env python3
# Writes ed27.gpg (a v4 public key with algorithm 27, RFC 9580 Ed25519) and
# ed27-bin.sig (a v4 binary signature by it over msg.txt), which GnuPG 2.2
# cannot make. A fixed test seed keeps the files reproducible; the key is a
# throwaway used only by the unit tests.
import hashlib, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

seed = hashlib.sha256(b'acso unit test ed25519 algo 27').digest()
sk = Ed25519PrivateKey.from_private_bytes(seed)
pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
created = 1700000000
body = bytes([4]) + struct.pack('>I', created) + bytes([27]) + pub
fpr = hashlib.sha1(b'\x99' + struct.pack('>H', len(body)) + body).digest()

def pkt(tag, b):
    assert len(b) < 192
    return bytes([0xC0 | tag, len(b)]) + b

uid = b'Unit Ed25519 v27 <unit-ed27@example.org>'
open('ed27.gpg', 'wb').write(pkt(6, body) + pkt(13, uid))

def sub(t, v):
    return bytes([len(v) + 1, t]) + v
hashed = sub(2, struct.pack('>I', created + 10)) + sub(33, b'\x04' + fpr)
unhashed = sub(16, fpr[12:])
head = bytes([4, 0x00, 27, 8]) + struct.pack('>H', len(hashed)) + hashed
msg = open('msg.txt', 'rb').read()
dig = hashlib.sha256(msg + head + b'\x04\xff' + struct.pack('>I', len(head))).digest()
sig = sk.sign(dig)
sigbody = head + struct.pack('>H', len(unhashed)) + unhashed + dig[:2] + sig
open('ed27-bin.sig', 'wb').write(pkt(2, sigbody))
print(fpr.hex().upper())
