# Independent implementation of the handshake of docs/formats/transport.md,
# on python3-cryptography (OpenSSL's X25519 and Ed25519) and hashlib's
# BLAKE2b, sharing no code with node/transport.c. Regenerates the worked
# example transport-example.json (usage: transport_example.py > FILE).
import hashlib, json
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw

def ed_key(byte):
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes([byte]) * 32)

def ed_pub(k):
    return k.public_key().public_bytes(*RAW)

def eph_key(byte):
    # The ephemeral secret is BLAKE2b-256 of the 32-byte test seed.
    secret = hashlib.blake2b(bytes([byte]) * 32, digest_size=32).digest()
    return x25519.X25519PrivateKey.from_private_bytes(secret)

origin = b"origo.test"
genesis = bytes([0x47, 0x45, 0x4E]) + bytes(29)
i_key, r_key = ed_key(1), ed_key(2)
i_eph, r_eph = eph_key(0x11), eph_key(0x22)
i_static, r_static = ed_pub(i_key), ed_pub(r_key)
i_epub = i_eph.public_key().public_bytes(*RAW)
r_epub = r_eph.public_key().public_bytes(*RAW)

transcript = (b"origo/transport/v1\x00" + bytes([1, len(origin)]) + origin +
              genesis + i_static + r_static + i_epub + r_epub)
m1 = i_static + bytes([1]) + i_epub
m2 = r_static + r_epub + r_key.sign(transcript + b"R")
m3 = i_key.sign(transcript + b"I")
shared = i_eph.exchange(x25519.X25519PublicKey.from_public_bytes(r_epub))
assert shared == r_eph.exchange(x25519.X25519PublicKey.from_public_bytes(i_epub))
keys = hashlib.blake2b(shared + transcript, digest_size=64).digest()

print(json.dumps({
    "description": "docs/formats/transport.md worked example, from "
                   "tests/vectors/transport_example.py",
    "origin": origin.decode(), "genesis_hash": genesis.hex(),
    "initiator_seed": "01" * 32, "responder_seed": "02" * 32,
    "initiator_eph_seed": "11" * 32, "responder_eph_seed": "22" * 32,
    "transcript": transcript.hex(),
    "m1": m1.hex(), "m2": m2.hex(), "m3": m3.hex(),
    "initiator_to_responder_key": keys[:32].hex(),
    "responder_to_initiator_key": keys[32:].hex(),
}, indent=2))
