"""RFC 6962 / RFC 9162 Merkle tree arithmetic over a service's log: hashes, which stored nodes
a proof needs, and proof verification. No I/O: the tree's nodes live in kernel/tree.py, and the
auditor's offline checks use this module with nothing else.

Hashes (RFC 9162 §2.1.1): leaf = SHA-256(0x00 ‖ leaf input), node = SHA-256(0x01 ‖ left ‖ right).
A stored node is the root of a complete subtree, named ``(level, index)``: it covers the leaves
``[index · 2^level, (index + 1) · 2^level)``. Every subtree a proof needs is either such a node or
the root of a range that ends at the tree size, folded from at most log2(n) of them; so a proof
reads O(log n) stored hashes.

Written from the RFC's definitions rather than taken from a library: pymerkle (the maintained
Python one) keeps no interior nodes and recomputes subtree roots from leaf ranges, so its proofs
read O(n) leaves from storage on a cold cache, and it numbers leaves from 1. The verifiers below
are RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, checked against transparency-dev/merkle's
published vectors (tests/test_merkle_proofs.py).
"""

import hashlib

HASH_SIZE = 32


def leaf_hash(leaf_input):
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size):
    """The largest power of two strictly smaller than ``size`` (> 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_nodes(start, end):
    """The stored nodes covering leaves ``[start, end)``, left to right: for a range the tree's
    recursion produces (aligned start), their right-to-left fold is the range's root."""
    nodes = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes):
    """The root of the subtree whose stored nodes (left to right) hash to ``hashes``."""
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def inclusion_plan(index, size):
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), as the stored nodes each element folds from,
    leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    plan, start, end = [], 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            plan.append(range_nodes(start + k, end))
            end = start + k
        else:
            plan.append(range_nodes(start, start + k))
            start += k
    return plan[::-1]


def consistency_plan(first, second):
    """RFC 9162 §2.1.4.1 PROOF(first, D[0:second]), as stored nodes per element, in order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    plan, start, end, m, whole = [], 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            plan.append(range_nodes(start + k, end))
            end = start + k
        else:
            plan.append(range_nodes(start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        plan.append(range_nodes(start, end))
    return plan[::-1]


def root_plan(size):
    return range_nodes(0, size)


class ProofError(ValueError):
    """A proof, a checkpoint or a signature that does not verify."""


def _check_hashes(*hashes):
    for item in hashes:
        if not isinstance(item, bytes) or len(item) != HASH_SIZE:
            raise ProofError("a hash is not 32 bytes")


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162 §2.1.3.2: the root the proof leads to from ``leaf`` at ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    _check_hashes(leaf, *proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the path from the leaf to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path from the leaf to the root")
    return r


def verify_inclusion(index, size, leaf, proof, root):
    _check_hashes(root)
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(
            f"the inclusion proof of leaf {index} does not lead to the root of {size} leaves"
        )


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2: the tree of ``second`` leaves extends the one of ``first`` leaves."""
    _check_hashes(first_root, second_root, *proof)
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {second} leaves cannot extend one of {first}")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError(f"two different roots for the same {first} leaves")
        return
    if first == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("an empty consistency proof between different sizes")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofError(f"the tree of {second} leaves is not an extension of the one of {first}")


class CompactRange:
    """The root of a growing tree from O(log n) hashes: the complete subtrees' roots, left to right."""

    def __init__(self):
        self.size, self._stack = 0, []  # (level, hash)

    def push(self, leaf):
        self.size += 1
        self._stack.append((0, leaf))
        while len(self._stack) > 1 and self._stack[-1][0] == self._stack[-2][0]:
            (level, right), (_, left) = self._stack.pop(), self._stack.pop()
            self._stack.append((level + 1, node_hash(left, right)))

    def root(self):
        return fold([h for _, h in self._stack])


def complete_nodes(leaf_hashes):
    """Every stored node of the tree over ``leaf_hashes``, held in memory (for an export)."""
    nodes: dict[tuple[int, int], bytes] = {}
    level, row = 0, list(leaf_hashes)
    while row:
        nodes.update(((level, i), h) for i, h in enumerate(row))
        row = [node_hash(row[2 * i], row[2 * i + 1]) for i in range(len(row) // 2)]
        level += 1
    return nodes


def needed(*plans):
    """The distinct stored nodes the plans read."""
    return sorted({node for plan in plans for group in plan for node in group})


def hashes(plan, nodes):
    """A proof (list of hashes) from its plan and the stored nodes it reads (a mapping)."""
    return [fold([nodes[node] for node in group]) for group in plan]
