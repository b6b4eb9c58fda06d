# Independent encoder for docs/formats/genesis.md and block.md (header v2):
# regenerates the genesis canonical bytes and hash and the block examples of
# ledger-example.json from its genesis_json (usage: ledger_example.py FILE).
import hashlib, json, struct, sys

def mp_uint(v):
    if v < 128: return bytes([v])
    if v < 1 << 8: return b'\xcc' + bytes([v])
    if v < 1 << 16: return b'\xcd' + struct.pack('>H', v)
    if v < 1 << 32: return b'\xce' + struct.pack('>I', v)
    return b'\xcf' + struct.pack('>Q', v)

def mp_str(s):
    b = s.encode()
    assert len(b) < 32
    return bytes([0xa0 | len(b)]) + b

def mp_bin(b):
    assert len(b) < 256
    return b'\xc4' + bytes([len(b)]) + b

def envelopes_hash(envs):
    h = hashlib.sha256()
    for e in envs:
        h.update(struct.pack('>I', len(e)) + e)
    return h.digest()

def header(height, prev, time, term, index, envs, first_leaf, leaf_count, tree_size, root):
    fields = [
        ('v', mp_uint(2)), ('height', mp_uint(height)), ('prev', mp_bin(prev)),
        ('time', mp_uint(time)), ('raft_term', mp_uint(term)),
        ('raft_index', mp_uint(index)), ('envelope_count', mp_uint(len(envs))),
        ('envelopes_hash', mp_bin(envelopes_hash(envs))),
        ('first_leaf', mp_uint(first_leaf)), ('leaf_count', mp_uint(leaf_count)),
        ('tree_size', mp_uint(tree_size)), ('root', mp_bin(root)),
    ]
    out = bytes([0x80 | len(fields)])
    for k, v in fields:
        out += mp_str(k) + v
    return out

def block_hash(hdr):
    return hashlib.sha256(b'origo/block/v2\x00' + hdr).digest()

ROLES = ['admin', 'auditor', 'carrier', 'inspector', 'plant', 'supplier', 'validator']

def mp_map(n):
    assert n < 16
    return bytes([0x80 | n])

def mp_array(n):
    assert n < 16
    return bytes([0x90 | n])

def genesis_canonical(g):
    """docs/formats/genesis.md, "Genesis hash": map(9) of the parsed genesis."""
    out = mp_map(9)
    out += mp_str('format') + mp_str(g['format'])
    out += mp_str('origin') + mp_str(g['origin'])
    out += mp_str('rules') + mp_uint(g['rules'])
    out += mp_str('validators') + mp_array(len(g['validators']))
    for v in g['validators']:
        out += mp_map(3) + mp_str('name') + mp_str(v['name'])
        out += mp_str('key') + mp_bin(bytes.fromhex(v['key']))
        out += mp_str('address') + mp_str(v['address'])
    parties = [dict(p, roles=['admin']) for p in g['admins']] + g.get('members', [])
    out += mp_str('parties') + mp_array(len(parties))
    for p in parties:
        mask = sum(1 << ROLES.index(r) for r in p['roles'])
        out += mp_map(4) + mp_str('name') + mp_str(p['name'])
        out += mp_str('key') + mp_bin(bytes.fromhex(p['key']))
        out += mp_str('roles') + mp_uint(mask)
        owns = p.get('owns', [])
        out += mp_str('owns') + mp_array(len(owns)) + b''.join(mp_str(o) for o in owns)
    params = g.get('params', {})
    out += mp_str('ts_window_ms') + mp_uint(params.get('ts_window_ms', 600000))
    quorum = params.get('checkpoint_quorum', len(g['validators']) // 2 + 1)
    out += mp_str('checkpoint_quorum') + mp_uint(quorum)
    admin_quorum = params.get('admin_quorum', len(g['admins']) // 2 + 1)
    out += mp_str('admin_quorum') + mp_uint(admin_quorum)
    out += mp_str('approval_window_ms') + mp_uint(params.get('approval_window_ms', 86400000))
    return out

path = sys.argv[1]
d = json.load(open(path))
canonical = genesis_canonical(json.loads(d['genesis_json']))
d['genesis_canonical_hex'] = canonical.hex()
d['genesis_hash_hex'] = hashlib.sha256(b'origo/genesis/v1\x00' + canonical).hexdigest()
g = bytes.fromhex(d['genesis_hash_hex'])
empty_root = hashlib.sha256(b'').digest()
b1 = d['block1']
h1 = header(1, g, b1['time'], b1['raft_term'], b1['raft_index'], [], 0, 0, 0, empty_root)
d['block1_header_hex'] = h1.hex()
d['block1_hash_hex'] = block_hash(h1).hex()
envs = [bytes.fromhex('c0'), b'not an envelope']
b2 = {'height': 2, 'time': b1['time'] + 1000, 'raft_term': 1, 'raft_index': b1['raft_index'] + 1,
      'envelopes_hex': [e.hex() for e in envs], 'first_leaf': 0, 'leaf_count': 0, 'tree_size': 0}
h2 = header(2, block_hash(h1), b2['time'], 1, b2['raft_index'], envs, 0, 0, 0, empty_root)
d['block2'] = b2
d['block2_envelopes_hash_hex'] = envelopes_hash(envs).hex()
d['block2_header_hex'] = h2.hex()
d['block2_hash_hex'] = block_hash(h2).hex()
d['comment'] = ('Worked example of docs/formats/genesis.md and block.md (header v2), '
  'computed by an independent Python encoder from the documented rules: the genesis '
  'hash over the canonical msgpack of the parsed genesis; block 1 (an empty block) '
  'chained to it; block 2, whose two envelopes are both rejected (they do not decode) '
  'but are still committed to by envelope_count and envelopes_hash.')
json.dump(d, open(path, 'w'), indent=1)
open(path, 'a').write('\n')
print(d['block1_hash_hex'], d['block2_hash_hex'])
