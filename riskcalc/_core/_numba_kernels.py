"""The numba side of :mod:`riskcalc._core.kernels` (imported only when compiled kernels run).

Every function here has a numpy twin in :mod:`riskcalc._core.kernels` returning identical
arrays; ``tests/test_kernels.py`` compares them. Kernels release the GIL (``nogil``) and are
cached on disk (``cache=True``).

Hash grouping (:func:`hash_group`, then :func:`hash_ids`): the keys are scattered to ``2**pb``
partitions by the top ``pb`` bits of ``key * golden`` (Fibonacci hashing), row order kept; each
partition is numbered in place, in order of first appearance, with a hash table of
interleaved (key, ``stamp << 32 | id``) slots (one 16-byte pair: a probe touches one cache
line; linear probing on the next bits of the same hash). A thread keeps one table for all its
partitions: a slot counts as empty unless it carries the current partition's stamp, so tables
are never cleared. The local ids are then read back in row order through per-chunk partition
cursors, so no pass writes to random places of a large array.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_LOW = np.int64(0xFFFFFFFF)


def n_threads() -> int:
    return numba.get_num_threads()


@njit(nogil=True, cache=True)
def mix(key, codes, levels):
    """``key = key * levels + codes`` in place, ``key`` and ``levels`` unsigned 64-bit (wrapping
    arithmetic; memory-bound: serial is as fast)."""
    for i in range(key.shape[0]):
        key[i] = key[i] * levels + np.uint64(codes[i])


# --------------------------------------------------------------------------------------------
# small key space: bincount, cumsum, gather (ids in key order)
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _count_and_rank(key, counts):
    """Count keys into ``counts``, then turn ``counts`` into the rank of each present key;
    return the sizes of the present keys, in key order."""
    for i in range(key.shape[0]):
        counts[key[i]] += 1
    m = 0
    for v in range(counts.shape[0]):
        if counts[v] > 0:
            m += 1
    sizes = np.empty(m, np.int64)
    r = 0
    for v in range(counts.shape[0]):
        c = counts[v]
        if c > 0:
            sizes[r] = c
            counts[v] = r
            r += 1
    return sizes


@njit(nogil=True, cache=True)
def group_small_serial(key, counts, ids):
    sizes = _count_and_rank(key, counts)
    for i in range(key.shape[0]):
        ids[i] = counts[key[i]]
    return sizes


# --------------------------------------------------------------------------------------------
# large key space: radix partition by hash, then one small hash table per partition
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True, inline="always")
def _hash(k):
    return np.uint64(k) * _GOLDEN


@njit(nogil=True, cache=True)
def _histogram(key, lo, hi, pb, counts):
    """``counts[p]`` += records of rows ``lo:hi`` whose hash falls in partition ``p``."""
    shift = np.uint64(64 - pb)
    for i in range(lo, hi):
        counts[np.int64(_hash(key[i]) >> shift) if pb else 0] += 1


@njit(nogil=True, cache=True)
def _scatter(key, lo, hi, pb, offsets, pkey):
    """Copy the keys of rows ``lo:hi`` to their partition (row order kept)."""
    shift = np.uint64(64 - pb)
    for i in range(lo, hi):
        p = np.int64(_hash(key[i]) >> shift) if pb else 0
        j = offsets[p]
        pkey[j] = key[i]
        offsets[p] = j + 1


@njit(nogil=True, cache=True)
def _table_bits(n, cap_bits):
    """log2 of the slots for a partition of ``n`` records: at least ``1.5 n``, at most
    ``2**cap_bits`` (the table grows past that only when the distinct keys need it)."""
    lb = 4
    while lb < cap_bits and (np.int64(1) << lb) < n + (n >> 1):
        lb += 1
    return lb


@njit(nogil=True, cache=True)
def _rehash(table, lb, stamp, new_lb, pb):
    """A table of ``2**new_lb`` slots holding the entries of ``table`` (first ``2**lb`` slots)
    stamped ``stamp``."""
    new = np.zeros(2 << new_lb, np.int64)
    up = np.uint64(pb)
    down = np.uint64(64 - new_lb)
    mask = (np.int64(1) << new_lb) - 1
    for s in range(np.int64(1) << lb):
        w = table[2 * s + 1]
        if (w >> 32) == stamp:
            k = table[2 * s]
            t = np.int64((_hash(k) << up) >> down)
            while (new[2 * t + 1] >> 32) == stamp:
                t = (t + 1) & mask
            new[2 * t] = k
            new[2 * t + 1] = w
    return new


@njit(nogil=True, cache=True)
def _insert_run(pkey, a, lo, hi, pb, table, lb, stamp, m):
    """Records ``lo:hi`` of the partition starting at ``a`` into ``table`` (``2**lb`` slots,
    room for every new key assumed); returns the number of local classes."""
    up = np.uint64(pb)
    down = np.uint64(64 - lb)
    mask = (np.int64(1) << lb) - 1
    tag = np.int64(stamp) << 32
    one = np.int64(1) << 32
    for j in range(lo, hi):
        k = pkey[j]
        s = np.int64((_hash(k) << up) >> down)
        while True:
            w = table[2 * s + 1]
            if (w >> 32) != stamp:
                table[2 * s] = k
                table[2 * s + 1] = tag | m
                c = m
                m += 1
                break
            if table[2 * s] == k:
                c = w & _LOW
                break
            s = (s + 1) & mask
        pkey[j] = c
        pkey[a + c] += one
    return m


@njit(nogil=True, cache=True)
def _group_partition(pkey, a, b, pb, table, cap_bits, stamp):
    """Number the keys of partition ``pkey[a:b]`` in order of first appearance, in place:
    afterwards the low 32 bits of ``pkey[j]`` hold record ``j``'s local id and the high 32 bits
    of ``pkey[a + c]`` the size of local class ``c`` (``c < m``). Returns ``(m, table)``.

    ``table`` (one per thread, reused across its partitions) interleaves slot ``s``'s key
    (``table[2 s]``) with ``stamp << 32 | id`` (``table[2 s + 1]``): a slot is empty unless it
    carries this partition's ``stamp``, so the table is never cleared. Its first ``2**lb`` slots
    are used, ``lb`` from the partition's records (:func:`_table_bits`); records go in by runs
    short enough that the load stays under 3/4, and the table is replaced by one twice as large
    (returned) when the load passes about 2/3.

    In-place is safe: class ``c`` is created at a record ``j >= a + c``, so ``pkey[a + c]`` has
    already been read when its size is first written; record ``j`` is read before it is written.
    """
    n = b - a
    if n == 0:
        return 0, table
    lb = _table_bits(n, cap_bits)
    if (2 << lb) > table.shape[0]:
        table = np.zeros(2 << lb, np.int64)
    m = 0
    j = a
    while j < b:
        limit = (np.int64(3) << lb) >> 2
        if limit - m < (limit >> 3) + 1:
            table = _rehash(table, lb, stamp, lb + 1, pb)
            lb += 1
            continue
        hi = min(b, j + (limit - m))
        m = _insert_run(pkey, a, j, hi, pb, table, lb, stamp, m)
        j = hi
    return m, table


@njit(nogil=True, cache=True)
def _sizes(pkey, a, m, out, o):
    for c in range(m):
        out[o + c] = pkey[a + c] >> 32


@njit(nogil=True, cache=True)
def _gather_ids(key, lo, hi, pb, base, cursor, pkey, ids):
    """``ids[i] = base[p] + local id`` for rows ``lo:hi``, reading each partition's local ids
    (low 32 bits of ``pkey``) in row order from the chunk's ``cursor``."""
    shift = np.uint64(64 - pb)
    for i in range(lo, hi):
        p = np.int64(_hash(key[i]) >> shift) if pb else 0
        j = cursor[p]
        ids[i] = base[p] + (pkey[j] & _LOW)
        cursor[p] = j + 1


@njit(nogil=True, cache=True)
def _partition_split(starts, n_parts, chunks):
    """Partition ranges ``[split[c], split[c + 1])`` with about equal records each."""
    split = np.empty(chunks + 1, np.int64)
    split[0] = 0
    n = starts[n_parts]
    p = 0
    for c in range(1, chunks):
        while p < n_parts and starts[p] * chunks < c * n:
            p += 1
        split[c] = p
    split[chunks] = n_parts
    return split


@njit(nogil=True, cache=True)
def _first_table(starts, lo, hi, cap_bits):
    big = 0
    for p in range(lo, hi):
        big = max(big, starts[p + 1] - starts[p])
    return np.zeros(2 << _table_bits(big, cap_bits), np.int64)


@njit(nogil=True, cache=True)
def _layout(counts, chunks, n_parts):
    """From per-chunk partition counts: ``starts`` of the partitions and each chunk's first
    position in each partition (``offsets[c, p]``; chunks in row order within a partition)."""
    offsets = np.empty((chunks, n_parts), np.int64)
    starts = np.empty(n_parts + 1, np.int64)
    pos = 0
    for p in range(n_parts):
        starts[p] = pos
        for c in range(chunks):
            offsets[c, p] = pos
            pos += counts[c, p]
    starts[n_parts] = pos
    return starts, offsets


@njit(nogil=True, cache=True)
def _bases(m):
    base = np.empty(m.shape[0], np.int64)
    total = 0
    for p in range(m.shape[0]):
        base[p] = total
        total += m[p]
    return base, total


@njit(parallel=True, nogil=True, cache=True)
def hash_group(key, pb, chunks, pkey, cap_bits):
    """First half of the hash-partition grouping, on ``chunks`` threads.

    Rows are cut into ``chunks`` ranges: histogram, then scatter of the keys to their partition
    in ``pkey`` (row order kept), then each partition numbered in place
    (:func:`_group_partition`; partitions cut into ``chunks`` ranges of about equal records).
    Returns ``(starts, cursor, m)``: partition bounds in ``pkey``, each chunk's first position in
    each partition, classes per partition. :func:`hash_ids` finishes.
    """
    n = key.shape[0]
    n_parts = 1 << pb
    bounds = np.linspace(0, n, chunks + 1).astype(np.int64)
    counts = np.zeros((chunks, n_parts), np.int64)
    for c in prange(chunks):
        _histogram(key, bounds[c], bounds[c + 1], pb, counts[c])
    starts, offsets = _layout(counts, chunks, n_parts)
    cursor = offsets.copy()
    for c in prange(chunks):
        _scatter(key, bounds[c], bounds[c + 1], pb, offsets[c], pkey)
    split = _partition_split(starts, n_parts, chunks)
    m = np.empty(n_parts, np.int64)
    for c in prange(chunks):
        table = _first_table(starts, split[c], split[c + 1], cap_bits)
        for p in range(split[c], split[c + 1]):
            mp, table = _group_partition(pkey, starts[p], starts[p + 1], pb, table, cap_bits, p + 1)
            m[p] = mp
    return starts, cursor, m


@njit(parallel=True, nogil=True, cache=True)
def hash_ids(key, pb, pkey, starts, cursor, m, ids, sizes):
    """Second half: class sizes into ``sizes`` (``m.sum()`` of them) and every row's id into
    ``ids``, in one pass in row order reading the local ids back through the chunk cursors
    (sequential streams, no random writes)."""
    n = key.shape[0]
    n_parts = 1 << pb
    chunks = cursor.shape[0]
    bounds = np.linspace(0, n, chunks + 1).astype(np.int64)
    base, _ = _bases(m)
    split = _partition_split(starts, n_parts, chunks)
    for c in prange(chunks):  # one parallel region: both halves only read pkey
        for p in range(split[c], split[c + 1]):
            _sizes(pkey, starts[p], m[p], sizes, base[p])
        _gather_ids(key, bounds[c], bounds[c + 1], pb, base, cursor[c], pkey, ids)


@njit(nogil=True, cache=True)
def hash_group_serial(key, pb, pkey, cap_bits):
    """:func:`hash_group` on the calling thread alone (one chunk; same result)."""
    n = key.shape[0]
    n_parts = 1 << pb
    counts = np.zeros((1, n_parts), np.int64)
    _histogram(key, 0, n, pb, counts[0])
    starts, offsets = _layout(counts, 1, n_parts)
    cursor = offsets.copy()
    _scatter(key, 0, n, pb, offsets[0], pkey)
    table = _first_table(starts, 0, n_parts, cap_bits)
    m = np.empty(n_parts, np.int64)
    for p in range(n_parts):
        mp, table = _group_partition(pkey, starts[p], starts[p + 1], pb, table, cap_bits, p + 1)
        m[p] = mp
    return starts, cursor, m


@njit(nogil=True, cache=True)
def hash_ids_serial(key, pb, pkey, starts, cursor, m, ids, sizes):
    """:func:`hash_ids` on the calling thread alone."""
    base, _ = _bases(m)
    for p in range(1 << pb):
        _sizes(pkey, starts[p], m[p], sizes, base[p])
    _gather_ids(key, 0, key.shape[0], pb, base, cursor[0], pkey, ids)


@njit(nogil=True, cache=True)
def group_hash_serial(key, pb, ids, cap_bits=18):
    """Ids (partition by partition, first appearance within each) and class sizes, on the
    calling thread, temporaries allocated here."""
    return group_hash_into(key, pb, ids, np.empty(key.shape[0], np.int64), cap_bits)


@njit(nogil=True, cache=True)
def group_hash_into(key, pb, ids, pkey, cap_bits=18):
    """:func:`group_hash_serial` with the caller's scratch ``pkey`` (at least ``len(key)``
    int64), so that a walk of many steps allocates it once (for :func:`refine`)."""
    pkey = pkey[: key.shape[0]]
    starts, cursor, m = hash_group_serial(key, pb, pkey, cap_bits)
    _, total = _bases(m)
    sizes = np.empty(total, np.int64)
    hash_ids_serial(key, pb, pkey, starts, cursor, m, ids, sizes)
    return sizes


@njit(nogil=True, cache=True)
def count_hash_into(key, pb, pkey, cap_bits=18):
    """The class sizes of :func:`group_hash_into` (same order) without the ids: no pass to
    write them back (for a lattice leaf, whose classes nobody refines)."""
    pkey = pkey[: key.shape[0]]
    starts, _, m = hash_group_serial(key, pb, pkey, cap_bits)
    base, total = _bases(m)
    sizes = np.empty(total, np.int64)
    for p in range(1 << pb):
        _sizes(pkey, starts[p], m[p], sizes, base[p])
    return sizes


# --------------------------------------------------------------------------------------------
# one lattice step: refine the active records' classes by one more field
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _bits_for(distinct):
    pb = 0
    while pb < 12 and (np.int64(16384) << pb) < distinct:
        pb += 1
    return pb


@njit(nogil=True, cache=True)
def refine(
    rows,
    has_rows,
    cid,
    has_cid,
    codes,
    levels,
    n_classes,
    want_next,
    want_lost,
    key,
    ids,
    pkey,
    next_rows,
    next_cid,
):
    """Classes of the active records on one more field, and the next active set.

    ``rows`` are the active records (every record when not ``has_rows``) and ``cid`` their
    classes in ``[0, n_classes)`` (one class when not ``has_cid``). The child key is
    ``cid * levels + codes[row]``. ``key``, ``ids`` and ``pkey`` are the caller's scratch (at
    least as long as the active records; reused step after step, so that a walk does not fault
    in fresh pages at every step), ``next_rows`` and ``next_cid`` where the next active set is
    written. Returns ``(sizes, next_has_rows, n_next, next_n_classes, lost_rows)``: the child
    class sizes; when ``want_next``, the records of child classes of two or more and their
    classes numbered densely in ``next_rows[:n_next]`` and ``next_cid[:n_next]`` (row order
    kept; when no record became unique the rows are ``rows`` themselves, not copied, and
    ``next_has_rows`` is ``has_rows``); when ``want_lost``, the records that became unique (row
    order kept).
    """
    m = rows.shape[0] if has_rows else codes.shape[0]
    key = key[:m]
    if has_cid:
        space = np.int64(n_classes) * levels
        if has_rows:
            for i in range(m):
                key[i] = np.int64(cid[i]) * levels + codes[rows[i]]
        else:
            for i in range(m):
                key[i] = np.int64(cid[i]) * levels + codes[i]
    else:
        space = np.int64(levels)
        if has_rows:
            for i in range(m):
                key[i] = codes[rows[i]]
        else:
            for i in range(m):
                key[i] = codes[i]
    small = space <= max(4 * m, 1 << 16)
    if not want_next and not want_lost:  # a leaf of the walk: the class sizes alone
        if small:
            sizes = _count_and_rank(key, np.zeros(space, np.int64))
        else:
            sizes = count_hash_into(key, _bits_for(min(np.int64(m), space)), pkey)
        return sizes, has_rows, 0, 0, np.empty(0, np.int64)
    ids = ids[:m]
    if small:
        counts = np.zeros(space, np.int64)
        sizes = group_small_serial(key, counts, ids)
    else:
        sizes = group_hash_into(key, _bits_for(min(np.int64(m), space)), ids, pkey)
    n_keep = 0
    n_keep_classes = 0
    remap = np.empty(sizes.shape[0], np.int32)
    for c in range(sizes.shape[0]):
        if sizes[c] > 1:
            remap[c] = n_keep_classes
            n_keep_classes += 1
            n_keep += sizes[c]
        else:
            remap[c] = -1
    lost = np.empty((m - n_keep) if want_lost else 0, np.int64)
    if n_keep == m:  # nobody became unique: the same rows, the child ids as classes
        if want_next:
            next_cid[:m] = ids
        return sizes, has_rows, m, n_keep_classes, lost
    t = 0
    u = 0
    for i in range(m):
        r = remap[ids[i]]
        row = rows[i] if has_rows else i
        if r >= 0:
            if want_next:
                next_rows[t] = row
                next_cid[t] = r
                t += 1
        elif want_lost:
            lost[u] = row
            u += 1
    return sizes, True, n_keep, n_keep_classes, lost


@njit(nogil=True, cache=True)
def size_tally(sizes):
    """``(distinct, counts)``: the distinct positive values of ``sizes``, ascending, and how many
    times each occurs (zeros ignored), as :meth:`SizeHistogram.from_class_sizes` tallies them: a
    dense tally when the largest value is small, else a sort and run lengths."""
    m = sizes.shape[0]
    top = 0
    for i in range(m):
        if sizes[i] > top:
            top = sizes[i]
    if top <= 4 * m + (1 << 16):
        tally = np.zeros(top + 1, np.int64)
        for i in range(m):
            if sizes[i] > 0:
                tally[sizes[i]] += 1
        k = 0
        for s in range(1, top + 1):
            if tally[s]:
                k += 1
        distinct = np.empty(k, np.int64)
        counts = np.empty(k, np.int64)
        k = 0
        for s in range(1, top + 1):
            if tally[s]:
                distinct[k] = s
                counts[k] = tally[s]
                k += 1
        return distinct, counts
    ordered = np.sort(sizes)
    first = 0
    while first < m and ordered[first] <= 0:
        first += 1
    k = 0
    for i in range(first, m):
        if i == first or ordered[i] != ordered[i - 1]:
            k += 1
    distinct = np.empty(k, np.int64)
    counts = np.zeros(k, np.int64)
    k = -1
    for i in range(first, m):
        if i == first or ordered[i] != ordered[i - 1]:
            k += 1
            distinct[k] = ordered[i]
        counts[k] += 1
    return distinct, counts


# --------------------------------------------------------------------------------------------
# short strings as integers
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def pack_short_strings(offsets, data, out, start):
    """Bytes of strings ``i`` (``offsets[i]:offsets[i + 1]`` of ``data``) packed little-endian
    into ``out[start + i]``; returns False when a string is longer than 8 bytes or holds a NUL
    byte (then zero padding would not be injective and the caller falls back). Serial: a few
    nanoseconds a string, less than a parallel launch costs."""
    n = offsets.shape[0] - 1
    bad = False
    for i in range(n):
        s = offsets[i]
        length = offsets[i + 1] - s
        if length > 8:
            return False
        v = np.uint64(0)
        for j in range(length):
            b = np.uint64(data[s + j])
            bad |= b == 0
            v |= b << np.uint64(8 * j)
        out[start + i] = np.int64(v)
    return not bad


# --------------------------------------------------------------------------------------------
# homogeneous classes: the one value of each class, or "mixed"
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def class_values(labels, codes, values):
    """One pass in row order: ``values[c]`` (``-1`` before) becomes the value of class ``c``'s
    first record, and ``-2`` (mixed) once a record of ``c`` holds another. One array, so one
    memory access a record."""
    for i in range(labels.shape[0]):
        c = labels[i]
        v = codes[i]
        s = values[c]
        if s == -1:
            values[c] = v
        elif s != v and s != -2:
            values[c] = -2


@njit(nogil=True, cache=True)
def homogeneous_tally(values, sizes, modal):
    """Over the classes not mixed (``values[c] != -2``): their records, those in classes of two
    or more, those whose value is not ``modal``, and the classes."""
    records = nonunique = minority = classes = 0
    for c in range(sizes.shape[0]):
        v = values[c]
        if v == -2:
            continue
        s = sizes[c]
        records += s
        classes += 1
        if s > 1:
            nonunique += s
        if v != modal:
            minority += s
    return records, nonunique, minority, classes


# --------------------------------------------------------------------------------------------
# first appearance: few distinct keys numbered in row order, with each one's first row
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def first_appearance(key, cap, ids, sizes, first):
    """``ids[i]``: the rank of ``key[i]`` among the distinct keys in order of first appearance,
    ``sizes[c]`` and ``first[c]`` the records and the first row of key ``c``, by one hash table
    of ``2 * cap`` slots (``cap`` a power of two); returns the number of distinct keys, or
    ``-1`` as soon as there are more than ``cap``."""
    size = 2 * cap
    mask = size - 1
    lb = 0
    while (1 << lb) < size:
        lb += 1
    down = np.uint64(64 - lb)
    table_key = np.empty(size, np.int64)
    table_id = np.full(size, -1, np.int64)
    m = 0
    for i in range(key.shape[0]):
        k = key[i]
        s = np.int64(_hash(k) >> down)
        while True:
            c = table_id[s]
            if c < 0:
                if m == cap:
                    return -1
                table_key[s] = k
                table_id[s] = m
                first[m] = i
                sizes[m] = 0
                c = m
                m += 1
                break
            if table_key[s] == k:
                break
            s = (s + 1) & mask
        sizes[c] += 1
        ids[i] = c
    return m


@njit(nogil=True, cache=True)
def first_rows(ids, first):
    """``first[c]``: the first row whose id is ``c`` (``first`` filled with ``-1`` before)."""
    for i in range(ids.shape[0]):
        c = ids[i]
        if first[c] < 0:
            first[c] = i


# --------------------------------------------------------------------------------------------
# integers of a small range: dense codes in increasing value
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def range_codes(values, lo, counts, codes):
    """Count ``values - lo`` into ``counts``, then ``codes[i]`` the rank of ``values[i]`` among
    the values present (``counts`` is left holding those ranks)."""
    for i in range(values.shape[0]):
        counts[np.int64(values[i]) - lo] += 1
    r = 0
    for v in range(counts.shape[0]):
        if counts[v] > 0:
            counts[v] = r
            r += 1
        else:
            counts[v] = -1
    for i in range(values.shape[0]):
        codes[i] = counts[np.int64(values[i]) - lo]
    return r


# --------------------------------------------------------------------------------------------
# a persistent hash table: keys numbered by first appearance across calls (streaming encoding)
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def table_factorize(keys, nulls, slot_keys, slot_ids, shift, uniques, count, out):
    """Number ``keys`` by first appearance in a table kept across calls (open addressing,
    linear probing, ``len(slot_keys)`` a power of two with room for every key of this call;
    ``slot_ids`` -1 when empty). New keys get ids from ``count`` on and are written to
    ``uniques``; ``shift`` is ``64 - log2(len(slot_keys))``. A record
    whose ``nulls`` is set (when ``nulls`` is not empty) gets -1. Returns
    the new count."""
    bits = np.uint64(shift)  # 64 - log2(len(slot_keys))
    mask = slot_keys.shape[0] - 1
    check = nulls.shape[0] > 0
    for i in range(keys.shape[0]):
        if check and nulls[i]:
            out[i] = -1
            continue
        k = keys[i]
        h = np.int64((np.uint64(k) * _GOLDEN) >> bits)
        while True:
            v = slot_ids[h]
            if v < 0:
                slot_keys[h] = k
                slot_ids[h] = count
                uniques[count] = k
                out[i] = count
                count += 1
                break
            if slot_keys[h] == k:
                out[i] = v
                break
            h = (h + 1) & mask
    return count


@njit(nogil=True, cache=True)
def table_rehash(uniques, count, slot_keys, slot_ids, shift):
    """Insert ``uniques[:count]`` (ids 0..count-1) into an empty table."""
    bits = np.uint64(shift)  # 64 - log2(len(slot_keys))
    mask = slot_keys.shape[0] - 1
    for j in range(count):
        k = uniques[j]
        h = np.int64((np.uint64(k) * _GOLDEN) >> bits)
        while slot_ids[h] >= 0:
            h = (h + 1) & mask
        slot_keys[h] = k
        slot_ids[h] = j


@njit(nogil=True, cache=True)
def add_counts(key, counts):
    """``counts[key[i]] += 1`` for every record (serial: memory-bound)."""
    for i in range(key.shape[0]):
        counts[key[i]] += 1


@njit(nogil=True, cache=True)
def map_indices(indices, nulls, lookup, out, start):
    """``out[start + i] = lookup[indices[i]]``, or -1 where ``nulls[i]`` (when ``nulls`` is not
    empty; a null's index is not read); returns the number of -1 written (a missing index, or
    a dictionary entry that is missing)."""
    check = nulls.shape[0] > 0
    missing = 0
    for i in range(indices.shape[0]):
        if check and nulls[i]:
            out[start + i] = -1
            missing += 1
        else:
            v = lookup[indices[i]]
            out[start + i] = v
            if v < 0:
                missing += 1
    return missing
