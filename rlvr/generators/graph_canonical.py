"""A graph up to renumbering its vertices, compiled by numba: the least edge certificate of the
individualisation-refinement search that ``rlvr.generators.problem_forms.graph_form`` defines
(GraphColoring's, MaxIndependentSet's and VertexCover's split groups), the same codes.

The search, as ``problem_forms.canonical_form`` runs it with ``graph_form``'s signatures: colour
refinement from one colour (a vertex's signature the sorted colours of its neighbours; the next
colour of a vertex the rank of (colour, signature) among all vertices' pairs, tuples compared
as Python compares them, until no cell splits); in the first cell of least colour that still
holds several vertices, each vertex in index order (one per twin class: vertices sharing their
neighbours, or adjacent and sharing them with themselves) is given a colour of its own (2c for
it, 2c + 1 for every other) and the search goes on depth first; each discrete colouring (a leaf)
numbers the vertices by colour and gives the sorted codes a·n + b (a < b) of the edges, and the
least such tuple is the form. More than ``budget`` leaves: no form (the caller falls back to the
refinement trace).

Why by hand: the split of a generated set works out this form for every graph drawn (about one
in eight is drawn again for the other side), and in Python it cost 130–200 µs a graph at d = .5
(refinement's rounds of sorted tuples, the twin classes, the certificate): half or more of what
the graph and its exact solve cost. Canonical labelling libraries (nauty) number graphs by their
own order, which would move tasks between the train and test sides. One module, because numba's
cache does not notice a change in another file's compiled function that a cached one calls.
Compiled once per installation and cached like ``rlvr.generators.job_shop_solver``
(``warm_up``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INSERTION_SORT_MAX = 24  # neighbour rows up to this long are sorted by insertion
BUDGET_EXCEEDED = -1  # ``_least_certificate``'s leaves when the search met more than the budget
OUT_OF_RANGE = -2  # its leaves when an edge's end is no vertex


def least_certificate(vertices: int, edges: np.ndarray, budget: int) -> list[int] | None:
    """The sorted edge codes of the least certificate (``problem_forms.graph_form``'s "exact"
    form) of the graph on 0…``vertices`` − 1 with ``edges`` (a (m, 2) int64 array; loops and
    repeats are dropped, either order of a pair is one edge), or None past ``budget`` leaves;
    ValueError for an edge's end outside 0…``vertices`` − 1."""
    codes, leaves = _least_certificate(vertices, edges, budget)
    if leaves == OUT_OF_RANGE:
        raise ValueError(f"an edge's end lies outside 0…{vertices - 1}")
    return None if leaves == BUDGET_EXCEEDED else codes.tolist()


def warm_up() -> None:
    """Compile the routine now, or load it from numba's cache (``scripts/setup.sh``)."""
    least_certificate(4, np.array([[0, 1], [2, 1], [2, 3], [0, 3], [3, 3]], np.int64), 8)


@njit(cache=True, nogil=True)
def _compare(p, q, colours, offsets, signature):
    """The order of vertices p and q by (colour, sorted neighbour colours) as Python compares
    the tuples: -1, 0 or 1."""
    if colours[p] != colours[q]:
        return -1 if colours[p] < colours[q] else 1
    a, b = offsets[p], offsets[q]
    length_p, length_q = offsets[p + 1] - a, offsets[q + 1] - b
    for i in range(min(length_p, length_q)):
        if signature[a + i] != signature[b + i]:
            return -1 if signature[a + i] < signature[b + i] else 1
    if length_p != length_q:
        return -1 if length_p < length_q else 1
    return 0


@njit(cache=True, nogil=True)
def _refine(colours, offsets, neighbours, signature, order, scratch, ranked):
    """``problem_forms.refine`` in place on ``colours`` (any integers; left as ranks)."""
    n = len(colours)
    for p in range(n):
        order[p] = colours[p]
    order[:n].sort()
    count = 0
    for i in range(n):
        if i == 0 or order[i] != order[i - 1]:
            count += 1
    while True:
        for p in range(n):
            start, end = offsets[p], offsets[p + 1]
            for i in range(start, end):
                signature[i] = colours[neighbours[i]]
            if end - start > INSERTION_SORT_MAX:
                signature[start:end].sort()
            else:  # a short row: insertion sort in place (numba's sort of a slice costs more)
                for i in range(start + 1, end):
                    value, j = signature[i], i - 1
                    while j >= start and signature[j] > value:
                        signature[j + 1] = signature[j]
                        j -= 1
                    signature[j + 1] = value
            order[p] = p
        width = 1  # bottom-up merge sort of the vertices by _compare (stable)
        while width < n:
            for low in range(0, n, 2 * width):
                middle, high = min(low + width, n), min(low + 2 * width, n)
                i, j, k = low, middle, low
                while i < middle and j < high:
                    if _compare(order[j], order[i], colours, offsets, signature) < 0:
                        scratch[k] = order[j]
                        j += 1
                    else:
                        scratch[k] = order[i]
                        i += 1
                    k += 1
                while i < middle:
                    scratch[k] = order[i]
                    i += 1
                    k += 1
                while j < high:
                    scratch[k] = order[j]
                    j += 1
                    k += 1
            for i in range(n):
                order[i] = scratch[i]
            width *= 2
        ranks = 0
        for i in range(n):
            if i == 0 or _compare(order[i - 1], order[i], colours, offsets, signature) != 0:
                ranks += 1
            ranked[order[i]] = ranks - 1
        for p in range(n):
            colours[p] = ranked[p]
        if ranks == count:
            return
        count = ranks


@njit(cache=True, nogil=True)
def _twin_classes(n, offsets, neighbours):
    """(a class per vertex, the number of classes): open twins (the same neighbours, a set more
    than one vertex has) share one, and among the other vertices closed twins (adjacent, with
    the same neighbours besides each other)."""
    adjacent = np.zeros((n, n), np.bool_)
    for p in range(n):
        for i in range(offsets[p], offsets[p + 1]):
            adjacent[p, neighbours[i]] = True
    degree = offsets[1:] - offsets[:-1]
    open_twins = np.zeros((n, n), np.bool_)
    shared = np.zeros(n, np.bool_)
    for p in range(n):
        for q in range(p + 1, n):
            if degree[p] == degree[q] and not adjacent[p, q]:
                same = True
                for r in range(n):
                    if adjacent[p, r] != adjacent[q, r]:
                        same = False
                        break
                if same:
                    open_twins[p, q] = open_twins[q, p] = True
                    shared[p] = shared[q] = True
    classes = np.full(n, -1, np.int64)
    count = 0
    for p in range(n):
        if classes[p] >= 0:
            continue
        classes[p] = count
        for q in range(p + 1, n):
            if classes[q] >= 0 or shared[q] != shared[p]:
                continue
            if shared[p]:
                same = open_twins[p, q]
            else:
                same = adjacent[p, q] and degree[p] == degree[q]
                for r in range(n):
                    if not same:
                        break
                    if r != p and r != q and adjacent[p, r] != adjacent[q, r]:
                        same = False
            if same:
                classes[q] = count
        count += 1
    return classes, count


@njit(cache=True, nogil=True)
def _least_certificate(n, edges, budget):
    """(the least certificate's codes, leaves searched), or (empty, BUDGET_EXCEEDED or
    OUT_OF_RANGE)."""
    pairs = np.empty(len(edges), np.int64)  # the edges' codes low·n + high, then each once
    m = 0
    for e in range(len(edges)):
        u, v = edges[e, 0], edges[e, 1]
        if u < 0 or v < 0 or u >= n or v >= n:
            return pairs[:0], OUT_OF_RANGE
        if u != v:
            pairs[m] = min(u, v) * n + max(u, v)
            m += 1
    pairs = np.unique(pairs[:m])
    m = len(pairs)
    us, vs = pairs // n, pairs % n
    degree = np.zeros(n + 1, np.int64)
    for e in range(m):
        degree[us[e] + 1] += 1
        degree[vs[e] + 1] += 1
    offsets = np.cumsum(degree)
    neighbours = np.empty(2 * m, np.int64)
    fill = offsets[:n].copy()
    for e in range(m):
        neighbours[fill[us[e]]] = vs[e]
        fill[us[e]] += 1
        neighbours[fill[vs[e]]] = us[e]
        fill[vs[e]] += 1
    twins, classes = _twin_classes(n, offsets, neighbours)
    signature = np.empty(2 * m, np.int64)
    order, scratch, ranked = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    colours = np.zeros((n + 1, n), np.int64)  # the refined colouring at each depth
    split = np.empty(n + 1, np.int64)  # the colour of the cell individualised at each depth
    next_point = np.empty(n + 1, np.int64)
    tried = np.zeros((n + 1, max(classes, 1)), np.bool_)
    best = np.empty(m, np.int64)
    codes = np.empty(m, np.int64)
    have_best = False
    leaves = 0
    _refine(colours[0], offsets, neighbours, signature, order, scratch, ranked)
    depth, entering = 0, True
    while depth >= 0:
        row = colours[depth]
        if entering:
            entering = False
            sizes = np.zeros(n, np.int64)  # refined colours are ranks 0…n−1
            for p in range(n):
                sizes[row[p]] += 1
            cell = -1
            for c in range(n):
                if sizes[c] > 1:
                    cell = c
                    break
            if cell < 0:
                leaves += 1
                if leaves > budget:
                    return codes[:0], BUDGET_EXCEEDED
                for e in range(m):
                    a, b = row[us[e]], row[vs[e]]
                    codes[e] = a * n + b if a < b else b * n + a
                codes.sort()
                less = not have_best
                if have_best:
                    for e in range(m):
                        if codes[e] != best[e]:
                            less = codes[e] < best[e]
                            break
                if less:
                    best[:] = codes
                    have_best = True
                depth -= 1
                continue
            split[depth] = cell
            next_point[depth] = 0
            tried[depth, :] = False
        point = next_point[depth]
        while point < n and (row[point] != split[depth] or tried[depth, twins[point]]):
            point += 1
        if point == n:
            depth -= 1
            continue
        next_point[depth] = point + 1
        tried[depth, twins[point]] = True
        child = colours[depth + 1]
        for p in range(n):
            child[p] = 2 * row[p] + (0 if p == point else 1)
        _refine(child, offsets, neighbours, signature, order, scratch, ranked)
        depth += 1
        entering = True
    return best, leaves
