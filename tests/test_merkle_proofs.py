"""Issue 16: the Merkle proof arithmetic (kernel/merkle.py) and the signed notes (kernel/note.py)
against published test vectors, and every kind of falsified proof or checkpoint refused. No I/O.

Vectors:
- RFC 6962 leaves, roots and proofs of transparency-dev/merkle, proof/verify_test.go
  (``leaves``, ``roots``, ``inclusionProofs``, ``consistencyProofs``; its leaf numbers are 1-based);
- the signed note of golang.org/x/mod/sumdb/note's documentation (PeterNeumann's key and note),
  which C2SP signed-note implementations reproduce byte for byte.
"""

import base64

import pytest

from kernel import merkle
from kernel.merkle import ProofError
from kernel.note import Checkpoint, NoteSigner, Verifier, open_checkpoint, open_note

h = bytes.fromhex
LEAVES = [
    h(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    h(x)
    for x in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
INCLUSION = [  # (leaf number, 1-based; tree size; proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_TREE = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
NODES = merkle.complete_nodes([merkle.leaf_hash(leaf) for leaf in LEAVES])


def flip(proof, i, bit):
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ bit]) + changed[i][1:]
    return changed


def test_roots_and_proofs_are_the_published_vectors():
    for size in range(1, 9):
        assert merkle.hashes([merkle.root_plan(size)], NODES) == [ROOTS[size - 1]]
    for leaf, size, proof in INCLUSION:
        assert merkle.hashes(merkle.inclusion_plan(leaf - 1, size), NODES) == [h(p) for p in proof]
        merkle.verify_inclusion(
            leaf - 1,
            size,
            merkle.leaf_hash(LEAVES[leaf - 1]),
            [h(p) for p in proof],
            ROOTS[size - 1],
        )
    for first, second, proof in CONSISTENCY:
        if first < second:
            assert merkle.hashes(merkle.consistency_plan(first, second), NODES) == [
                h(p) for p in proof
            ]
        merkle.verify_consistency(
            first, second, ROOTS[first - 1], ROOTS[second - 1], [h(p) for p in proof]
        )


def test_every_proof_of_every_small_tree_verifies_and_reads_log_n_nodes():
    for size in range(1, 70):
        nodes = merkle.complete_nodes([merkle.leaf_hash(bytes([i])) for i in range(size)])
        root = merkle.hashes([merkle.root_plan(size)], nodes)[0]
        for index in range(size):
            plan = merkle.inclusion_plan(index, size)
            assert len(merkle.needed(plan)) <= 2 * size.bit_length()
            merkle.verify_inclusion(
                index, size, nodes[(0, index)], merkle.hashes(plan, nodes), root
            )
        for first in range(1, size + 1):
            first_root = merkle.hashes([merkle.root_plan(first)], nodes)[0]
            plan = merkle.consistency_plan(first, size)
            assert len(merkle.needed(plan)) <= 2 * size.bit_length()
            merkle.verify_consistency(first, size, first_root, root, merkle.hashes(plan, nodes))


@pytest.mark.parametrize("leaf,size,proof", [v for v in INCLUSION if v[2]])
def test_a_falsified_inclusion_proof_fails(leaf, size, proof):
    """Issue 16 must-have: a proof for a different leaf, a truncated or reordered path, a wrong
    tree size, garbage around it (transparency-dev's corruptInclusionProof probes)."""
    index, proof, root = leaf - 1, [h(p) for p in proof], ROOTS[size - 1]
    leaf_hash = merkle.leaf_hash(LEAVES[index])
    other_leaf = merkle.leaf_hash(LEAVES[(index + 1) % 8])
    probes = (
        [
            (index, size, other_leaf, proof, root),  # a different leaf
            (index - 1, size, leaf_hash, proof, root),
            (index + 1, size, leaf_hash, proof, root),
            (index ^ 2, size, leaf_hash, proof, root),
            (index, size * 2, leaf_hash, proof, root),
            (index, size // 2, leaf_hash, proof, root),  # wrong size
            (index, size, leaf_hash, proof, EMPTY_TREE),
            (index, size, leaf_hash, proof, SOME_HASH),
            (index, size, leaf_hash, proof[:-1], root),  # truncated
            (
                index,
                size,
                leaf_hash,
                proof[1:] + proof[:1],
                root,
            ),  # reordered (a one-hash path is all of it)
            (index, size, leaf_hash, proof + [root], root),
            (index, size, leaf_hash, [root] + proof, root),
            (index, size, leaf_hash, proof + [b""], root),
            (index, size, leaf_hash, proof[:1] + [SOME_HASH] + proof[1:], root),
        ]
        + [(index, size, leaf_hash, flip(proof, i, 8), root) for i in range(len(proof))]
    )
    for probe in probes:
        if probe[3] == proof and probe[:3] == (index, size, leaf_hash) and probe[4] == root:
            continue  # a one-hash path reordered is itself
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*probe)


@pytest.mark.parametrize("first,second,proof", [v for v in CONSISTENCY if v[2]])
def test_a_falsified_consistency_proof_fails(first, second, proof):
    """Issue 16 must-have: an inconsistent pair of roots, wrong sizes, a truncated or reordered
    proof (transparency-dev's corruptConsistencyProof probes)."""
    proof, root1, root2 = [h(p) for p in proof], ROOTS[first - 1], ROOTS[second - 1]
    probes = (
        [
            (first - 1, second, root1, root2, proof),
            (first + 1, second, root1, root2, proof),
            (first ^ 2, second, root1, root2, proof),
            (first, second * 2, root1, root2, proof),
            (first, second // 2, root1, root2, proof),
            (first, second, SOME_HASH, root2, proof),
            (first, second, root1, SOME_HASH, proof),
            (first, second, root2, root1, proof),  # swapped roots
            (first, second, root1, root2, []),
            (first, second, root1, root2, proof[:-1]),
            (first, second, root1, root2, proof[::-1]),
            (first, second, root1, root2, proof + [root1]),
            (first, second, root1, root2, proof + [root2]),
            (first, second, root1, root2, [root1] + proof),
            (first, second, root1, root2, [root2] + proof),
            (first, second, root1, root2, proof[:1] + proof),
        ]
        + [(first, second, root1, root2, flip(proof, i, 16)) for i in range(len(proof))]
    )
    for probe in probes:
        if probe[0] == probe[1] == 0 or probe[0] == 0 and not probe[4]:
            continue  # the empty tree is consistent with anything: no probe
        with pytest.raises(ProofError):
            merkle.verify_consistency(*probe)


def test_the_signed_note_is_the_published_one_byte_for_byte():
    skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    signer = NoteSigner("PeterNeumann", base64.b64decode(skey.split("+", 4)[4])[1:])
    assert (
        signer.verifier_key == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )
    note = signer.sign(text)
    assert note == text + (
        "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIu"
        "GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    )
    assert open_note(note, [Verifier.parse(signer.verifier_key)]) == text
    with pytest.raises(ProofError):
        open_note(
            note.replace("cryptography", "cryptographY"), [Verifier.parse(signer.verifier_key)]
        )


def test_a_forged_or_re_signed_checkpoint_fails():
    """Issue 16 must-have: a checkpoint whose body was changed after signing, or signed again by
    another key (even one under the service's own name), does not verify with the service's key."""
    ours = NoteSigner("kjfp.local/registry", b"\x01" * 32)
    theirs = NoteSigner("kjfp.local/registry", b"\x02" * 32)
    checkpoint = Checkpoint("kjfp.local/registry", 8, ROOTS[7])
    note = ours.sign(checkpoint.text())
    assert open_checkpoint(note, [ours.verifier_key]) == checkpoint
    forged_body = note.replace("\n8\n", "\n9\n")
    re_signed = theirs.sign(Checkpoint("kjfp.local/registry", 8, ROOTS[6]).text())
    other_origin = NoteSigner("kjfp.local/funding", b"\x01" * 32).sign(checkpoint.text())
    for bad in (
        forged_body,
        re_signed,
        other_origin,
        note.replace("\u2014", "-"),
        checkpoint.text(),
    ):
        with pytest.raises(ProofError):
            open_checkpoint(bad, [ours.verifier_key])
    with pytest.raises(ValueError):  # a verifier key whose hash does not match its name and key
        Verifier.parse(ours.verifier_key.replace("kjfp.local/registry", "kjfp.local/funding"))


def test_the_checkpoints_time_is_signed_and_a_c2sp_verifier_still_reads_it():
    """Issue 16: a checkpoint carries the time it was signed as a C2SP extension line
    (``time <RFC 3339 UTC>``), inside the signed text: changing it breaks the signature. A verifier
    that reads only the first three lines gets origin, size and root; a note signed before the
    line was introduced still verifies, with no time."""
    ours = NoteSigner("kjfp.local/registry", b"\x01" * 32)
    checkpoint = Checkpoint("kjfp.local/registry", 8, ROOTS[7], "2026-11-26T16:08:09Z")
    note = ours.sign(checkpoint.text())
    assert note.startswith(
        f"kjfp.local/registry\n8\n{base64.b64encode(ROOTS[7]).decode()}\n"
        "time 2026-11-26T16:08:09Z\n\n\u2014 kjfp.local/registry "
    )
    assert open_checkpoint(note, [ours.verifier_key]) == checkpoint
    c2sp = open_note(note, [Verifier.parse(ours.verifier_key)]).split("\n")[:3]
    assert c2sp == ["kjfp.local/registry", "8", base64.b64encode(ROOTS[7]).decode()]
    with pytest.raises(ProofError, match="does not verify"):
        open_checkpoint(note.replace("16:08:09Z", "16:08:10Z"), [ours.verifier_key])
    with pytest.raises(ProofError, match="does not verify"):
        open_checkpoint(note.replace("time 2026-11-26T16:08:09Z\n", ""), [ours.verifier_key])
    old = ours.sign(Checkpoint("kjfp.local/registry", 8, ROOTS[7]).text())
    assert open_checkpoint(old, [ours.verifier_key]).time is None
    with pytest.raises(ProofError, match="time"):  # signed, but not a time we can read
        open_checkpoint(
            ours.sign(checkpoint.text().replace("2026-11-26T16:08:09Z", "yesterday")),
            [ours.verifier_key],
        )
    other = ours.sign(
        checkpoint.text() + "witnessed-by example.org\n"
    )  # other extension lines: ignored
    assert open_checkpoint(other, [ours.verifier_key]) == checkpoint
