/*
 * ambsim_gui.geo._search: the two routing loops the engine runs thousands of times a shift,
 * compiled. Pure-Python/scipy fallbacks that give bit-identical answers live in
 * ambsim_gui/geo/search.py; that module is the only user of this one.
 *
 * nearest_search: one search backwards from an incident, goal-directed towards the free
 *   vehicles (A* with landmarks), that stops as soon as none left could beat the best one
 *   found. scipy's dijkstra can only stop at a fixed limit, and on a thin evening fleet that
 *   limit covers most of a city.
 * walk: follow a shortest-path tree's predecessor links into a route.
 *
 * Arrays arrive through the buffer protocol, so building this needs no numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_PRED (-9999)

typedef struct {
    double key; /* time so far plus the heuristic's lower bound on the rest */
    double g;   /* time so far */
    int node;
} Entry;

typedef struct {
    Entry *items;
    Py_ssize_t size, cap;
} Heap;

/* Entries are ordered by (key, node, g): a total order, so the order of pops, and with it
 * everything a search returns, never depends on the order of pushes, and the scipy/heapq
 * fallback (which compares the same tuples) pops in the same order. */
static inline int before(const Entry *a, const Entry *b) {
    if (a->key != b->key) return a->key < b->key;
    if (a->node != b->node) return a->node < b->node;
    return a->g < b->g;
}

static int heap_push(Heap *h, double key, double g, int node) {
    if (h->size == h->cap) {
        Py_ssize_t cap = h->cap ? h->cap * 2 : 1024;
        Entry *items = (Entry *)realloc(h->items, (size_t)cap * sizeof(Entry));
        if (!items) return -1;
        h->items = items;
        h->cap = cap;
    }
    Entry e = {key, g, node};
    Py_ssize_t i = h->size++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (!before(&e, &h->items[parent])) break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = e;
    return 0;
}

static Entry heap_pop(Heap *h) {
    Entry top = h->items[0];
    Entry last = h->items[--h->size];
    Py_ssize_t i = 0, n = h->size;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&h->items[c + 1], &h->items[c])) c++;
        if (!before(&h->items[c], &last)) break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (n > 0) h->items[i] = last;
    return top;
}

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static int get_buf(PyObject *obj, Buf *b, const char *fmt, Py_ssize_t itemsize, int writable,
                   const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) return -1;
    b->held = 1;
    if (b->view.itemsize != itemsize || b->view.format == NULL ||
        strchr(fmt, b->view.format[strlen(b->view.format) - 1]) == NULL) {
        PyErr_Format(PyExc_TypeError, "%s: expected a contiguous array of format %s, got %s",
                     name, fmt, b->view.format ? b->view.format : "?");
        return -1;
    }
    return 0;
}

static void release(Buf *bufs, int n) {
    for (int i = 0; i < n; i++)
        if (bufs[i].held) PyBuffer_Release(&bufs[i].view);
}

/*
 * nearest_search(indptr, indices, weights, target, cand_nodes, cand_extra, limit, eps,
 *                dist, pred, lm_to_x, lm_from_x, active) -> radius
 *
 * Which of some candidates reaches `target` first? Candidate j stands at node cand_nodes[j]
 * and needs cand_extra[j] seconds on top of its drive; nobody slower than `limit` is wanted.
 *
 * An A* search backwards from `target` over the CSR graph (row u lists the nodes v with an
 * edge v -> u and its time). Its heuristic is a lower bound on the rest of the way, from the
 * nearest-looking candidate to the node, from landmarks (ALT: Goldberg and Harrelson, 2005):
 * lm_to_x and lm_from_x are (n, L) matrices of times from and to L landmarks (a node's
 * landmarks side by side, so the heuristic reads one cache line per node). The search uses
 * the `active` landmarks that bound the candidates' times to the target best (see
 * pick_landmarks). With active = 0 it is Dijkstra's search.
 *
 * The search stops when nothing left can beat radius = min(limit, best candidate's time +
 * extra + eps). It writes the exact time to the target of every node it settled into `dist`,
 * and the next node towards the target into `pred` (callers fill both with inf and -9999
 * first; other nodes are left so), and returns the radius. Every candidate that could be the
 * nearest, or tie with it, is settled. Where two ways into a node tie on time, the one
 * through the lower node id wins.
 */
static PyObject *nearest_search(PyObject *self, PyObject *args) {
    PyObject *o_indptr, *o_indices, *o_weights, *o_cnodes, *o_cextra, *o_dist, *o_pred;
    PyObject *o_lto, *o_lfrom;
    Py_ssize_t target, active;
    double limit, eps;
    if (!PyArg_ParseTuple(args, "OOOnOOddOOOOn", &o_indptr, &o_indices, &o_weights, &target,
                          &o_cnodes, &o_cextra, &limit, &eps, &o_dist, &o_pred, &o_lto,
                          &o_lfrom, &active))
        return NULL;

    enum { NB = 9 };
    Buf bufs[NB];
    memset(bufs, 0, sizeof(bufs));
    if (get_buf(o_indptr, &bufs[0], "i", 4, 0, "indptr") < 0 ||
        get_buf(o_indices, &bufs[1], "i", 4, 0, "indices") < 0 ||
        get_buf(o_weights, &bufs[2], "d", 8, 0, "weights") < 0 ||
        get_buf(o_cnodes, &bufs[3], "lq", 8, 0, "cand_nodes") < 0 ||
        get_buf(o_cextra, &bufs[4], "d", 8, 0, "cand_extra") < 0 ||
        get_buf(o_dist, &bufs[5], "d", 8, 1, "dist") < 0 ||
        get_buf(o_pred, &bufs[6], "i", 4, 1, "pred") < 0 ||
        get_buf(o_lto, &bufs[7], "d", 8, 0, "lm_to_x") < 0 ||
        get_buf(o_lfrom, &bufs[8], "d", 8, 0, "lm_from_x") < 0) {
        release(bufs, NB);
        return NULL;
    }
    const int *indptr = (const int *)bufs[0].view.buf;
    const int *indices = (const int *)bufs[1].view.buf;
    const double *weights = (const double *)bufs[2].view.buf;
    const long long *cnodes = (const long long *)bufs[3].view.buf;
    const double *cextra = (const double *)bufs[4].view.buf;
    double *dist = (double *)bufs[5].view.buf;
    int *pred = (int *)bufs[6].view.buf;
    const double *lto = (const double *)bufs[7].view.buf;
    const double *lfrom = (const double *)bufs[8].view.buf;
    Py_ssize_t n = bufs[5].view.len / 8;
    Py_ssize_t k = bufs[3].view.len / 8;
    Py_ssize_t m = bufs[1].view.len / 4;
    Py_ssize_t n_lm = n ? bufs[7].view.len / 8 / n : 0; /* landmarks (columns) */

    const char *bad = NULL;
    if (bufs[0].view.len / 4 != n + 1 || bufs[2].view.len / 8 != m ||
        bufs[6].view.len / 4 != n || bufs[4].view.len / 8 != k)
        bad = "array lengths do not match the graph";
    else if (bufs[7].view.len != bufs[8].view.len || bufs[7].view.len != n_lm * n * 8)
        bad = "landmark arrays do not match the graph";
    else if (target < 0 || target >= n)
        bad = "the target node does not exist";
    else if (active < 0)
        bad = "active landmarks must not be negative";
    for (Py_ssize_t j = 0; !bad && j < k; j++)
        if (cnodes[j] < 0 || cnodes[j] >= n) bad = "a candidate node does not exist";
    if (bad) {
        release(bufs, NB);
        PyErr_SetString(PyExc_ValueError, bad);
        return NULL;
    }

    /* Pick the landmarks (pick_landmarks in search.py does the same in numpy). */
    if (active > n_lm) active = n_lm;
    if (k == 0) active = 0;
    int *lrows = (int *)malloc(sizeof(int) * (size_t)(active > 0 ? active : 1));
    double *lto_c = (double *)malloc(sizeof(double) * (size_t)(active * k > 0 ? active * k : 1));
    double *lfrom_c = (double *)malloc(sizeof(double) * (size_t)(active * k > 0 ? active * k : 1));
    double *score = (double *)malloc(sizeof(double) * (size_t)(n_lm > 0 ? n_lm : 1));
    Py_ssize_t a_count = 0;
    if (!lrows || !lto_c || !lfrom_c || !score) {
        free(lrows);
        free(lto_c);
        free(lfrom_c);
        free(score);
        release(bufs, NB);
        return PyErr_NoMemory();
    }
    if (active > 0) {
        for (Py_ssize_t L = 0; L < n_lm; L++) {
            double tt = lto[target * n_lm + L], ft = lfrom[target * n_lm + L];
            double sc = INFINITY;
            int usable = 1;
            for (Py_ssize_t j = 0; j < k; j++) {
                double tc = lto[cnodes[j] * n_lm + L], fc = lfrom[cnodes[j] * n_lm + L];
                if (!isfinite(tc) || !isfinite(fc)) {
                    usable = 0;
                    break;
                }
                double x1 = tt - tc, x2 = fc - ft;
                double lb = x2 > x1 ? x2 : x1;
                if (lb < sc) sc = lb;
            }
            score[L] = (usable && isfinite(sc)) ? sc : -INFINITY;
        }
        /* The best bounds first; on a tie, the lower landmark (a stable sort's order). */
        for (Py_ssize_t a = 0; a < active; a++) {
            Py_ssize_t best = -1;
            for (Py_ssize_t L = 0; L < n_lm; L++)
                if (isfinite(score[L]) && (best < 0 || score[L] > score[best])) best = L;
            if (best < 0) break;
            lrows[a_count++] = (int)best;
            score[best] = -INFINITY;
        }
        for (Py_ssize_t a = 0; a < a_count; a++)
            for (Py_ssize_t j = 0; j < k; j++) {
                lto_c[a * k + j] = lto[cnodes[j] * n_lm + lrows[a]];
                lfrom_c[a * k + j] = lfrom[cnodes[j] * n_lm + lrows[a]];
            }
    }
    free(score);
    int use_h = (a_count > 0 && k > 0);

    double radius = limit;
    Heap heap = {NULL, 0, 0};
    unsigned char *is_cand = (unsigned char *)calloc((size_t)n, 1);
    unsigned char *settled = (unsigned char *)calloc((size_t)n, 1);
    double *hx = (double *)malloc(sizeof(double) * (size_t)(a_count > 0 ? 2 * a_count : 1));
    int *touched = (int *)malloc(sizeof(int) * 1024);
    Py_ssize_t n_touched = 0, cap_touched = 1024;
    int failed = (is_cand == NULL || settled == NULL || hx == NULL || touched == NULL);

    Py_BEGIN_ALLOW_THREADS
    if (!failed) {
        for (Py_ssize_t j = 0; j < k; j++) is_cand[cnodes[j]] = 1;
        dist[target] = 0.0;
        pred[target] = NO_PRED;
        touched[n_touched++] = (int)target;
        failed = heap_push(&heap, 0.0, 0.0, (int)target) < 0;
    }
    while (!failed && heap.size > 0) {
        Entry e = heap_pop(&heap);
        int u = e.node;
        double d = e.g;
        if (d > dist[u]) continue; /* stale: u was reached sooner since */
        if (e.key > radius) break;
        settled[u] = 1;
        if (is_cand[u]) {
            for (Py_ssize_t j = 0; j < k; j++) {
                if (cnodes[j] == u) {
                    double r = (d + cextra[j]) + eps;
                    if (r < radius) radius = r;
                }
            }
        }
        for (int p = indptr[u]; p < indptr[u + 1]; p++) {
            int v = indices[p];
            double nd = d + weights[p];
            if (nd < dist[v]) {
                if (isinf(dist[v])) {
                    if (n_touched == cap_touched) {
                        cap_touched *= 2;
                        int *t = (int *)realloc(touched, sizeof(int) * (size_t)cap_touched);
                        if (!t) { failed = 1; break; }
                        touched = t;
                    }
                    touched[n_touched++] = v;
                }
                dist[v] = nd;
                pred[v] = u;
                double h = 0.0;
                if (use_h) {
                    for (Py_ssize_t a = 0; a < a_count; a++) {
                        hx[a] = lto[(Py_ssize_t)v * n_lm + lrows[a]];
                        hx[a_count + a] = lfrom[(Py_ssize_t)v * n_lm + lrows[a]];
                    }
                    h = INFINITY;
                    for (Py_ssize_t j = 0; j < k; j++) {
                        double lb = 0.0;
                        for (Py_ssize_t a = 0; a < a_count; a++) {
                            double x1 = hx[a] - lto_c[a * k + j];
                            double x2 = lfrom_c[a * k + j] - hx[a_count + a];
                            if (x1 > lb) lb = x1;
                            if (x2 > lb) lb = x2;
                        }
                        lb += cextra[j];
                        if (lb < h) h = lb;
                    }
                }
                if (heap_push(&heap, nd + h, nd, v) < 0) { failed = 1; break; }
            } else if (nd == dist[v] && u < pred[v]) {
                pred[v] = u;
            }
        }
    }
    /* Nodes reached but not settled hold only tentative times: forget them. */
    for (Py_ssize_t i = 0; i < n_touched; i++) {
        int v = touched[i];
        if (!settled[v]) {
            dist[v] = INFINITY;
            pred[v] = NO_PRED;
        }
    }
    Py_END_ALLOW_THREADS

    free(heap.items);
    free(is_cand);
    free(settled);
    free(hx);
    free(touched);
    free(lrows);
    free(lto_c);
    free(lfrom_c);
    release(bufs, NB);
    if (failed) return PyErr_NoMemory();
    return PyFloat_FromDouble(radius);
}

/*
 * walk(pred, start, end, out) -> count
 *
 * Follows pred from `start` until `end`, writing the nodes into `out` (int64, room for every
 * node of the graph), and returns how many it wrote; -1 if the links break off or loop.
 */
static PyObject *walk(PyObject *self, PyObject *args) {
    PyObject *o_pred, *o_out;
    Py_ssize_t start, end;
    if (!PyArg_ParseTuple(args, "OnnO", &o_pred, &start, &end, &o_out)) return NULL;
    Buf bufs[2];
    memset(bufs, 0, sizeof(bufs));
    if (get_buf(o_pred, &bufs[0], "i", 4, 0, "pred") < 0 ||
        get_buf(o_out, &bufs[1], "lq", 8, 1, "out") < 0) {
        release(bufs, 2);
        return NULL;
    }
    const int *pred = (const int *)bufs[0].view.buf;
    long long *out = (long long *)bufs[1].view.buf;
    Py_ssize_t n = bufs[0].view.len / 4, cap = bufs[1].view.len / 8;
    Py_ssize_t count = -1;
    if (start >= 0 && start < n && end >= 0 && end < n) {
        Py_ssize_t node = start, i = 0;
        for (;;) {
            if (i >= cap) break;
            out[i++] = node;
            if (node == end) {
                count = i;
                break;
            }
            node = pred[node];
            if (node < 0 || node >= n) break;
        }
    }
    release(bufs, 2);
    return PyLong_FromSsize_t(count);
}

static PyMethodDef methods[] = {
    {"nearest_search", nearest_search, METH_VARARGS,
     "Reverse Dijkstra from a target that stops once no candidate can beat the best."},
    {"walk", walk, METH_VARARGS, "Follow predecessor links into a path of nodes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_search",
    "Compiled routing loops for ambsim_gui.geo.search (see that module).", -1, methods,
};

PyMODINIT_FUNC PyInit__search(void) { return PyModule_Create(&module); }
