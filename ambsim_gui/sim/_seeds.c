/*
 * ambsim_gui.sim._seeds: numpy's SeedSequence, as far as seeding a PCG64 needs it, compiled.
 *
 * The engine opens about four random streams per patient (tens of thousands a day), and
 * numpy spends some 30 us building each SeedSequence. This computes the same 256 bits of
 * state (numpy/random/bit_generator.pyx: SeedSequence.mix_entropy and generate_state) in
 * about 1 us. ambsim_gui/sim/rng.py is the only user; it falls back to numpy's SeedSequence
 * where this is not built, and the tests check both against numpy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define POOL 4
#define INIT_A 0x43b0d7e5u
#define MULT_A 0x931e8875u
#define INIT_B 0x8b51f9ddu
#define MULT_B 0x58f38dedu
#define MIX_MULT_L 0xca01f9ddu
#define MIX_MULT_R 0x4973f715u
#define XSHIFT 16

static inline uint32_t hashmix(uint32_t value, uint32_t *hash_const) {
    value ^= *hash_const;
    *hash_const *= MULT_A;
    value *= *hash_const;
    value ^= value >> XSHIFT;
    return value;
}

static inline uint32_t mix(uint32_t x, uint32_t y) {
    uint32_t result = MIX_MULT_L * x - MIX_MULT_R * y;
    result ^= result >> XSHIFT;
    return result;
}

/*
 * pcg64_state(words) -> bytes
 *
 * `words` is the assembled entropy as a tuple of 32-bit ints (the run's entropy, padded with
 * zeros to 4 words when there is a spawn key, then the spawn key's words). Returns the 32
 * bytes SeedSequence.generate_state(4, np.uint64) would return, little-endian.
 */
static PyObject *pcg64_state(PyObject *self, PyObject *args) {
    PyObject *words;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &words)) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(words);
    uint32_t stack[64];
    uint32_t *ent = n <= 64 ? stack : (uint32_t *)PyMem_Malloc(sizeof(uint32_t) * (size_t)n);
    if (!ent) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long v = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(words, i));
        if ((v == (unsigned long)-1 && PyErr_Occurred()) || v > 0xffffffffUL) {
            if (ent != stack) PyMem_Free(ent);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_OverflowError, "entropy words must fit 32 bits");
            return NULL;
        }
        ent[i] = (uint32_t)v;
    }
    uint32_t mixer[POOL];
    uint32_t hash_const = INIT_A;
    for (int i = 0; i < POOL; i++) mixer[i] = hashmix(i < n ? ent[i] : 0u, &hash_const);
    for (int s = 0; s < POOL; s++)
        for (int d = 0; d < POOL; d++)
            if (s != d) mixer[d] = mix(mixer[d], hashmix(mixer[s], &hash_const));
    for (Py_ssize_t s = POOL; s < n; s++)
        for (int d = 0; d < POOL; d++) mixer[d] = mix(mixer[d], hashmix(ent[s], &hash_const));
    if (ent != stack) PyMem_Free(ent);

    uint32_t out32[8];
    uint32_t hc = INIT_B;
    for (int i = 0; i < 8; i++) {
        uint32_t v = mixer[i % POOL];
        v ^= hc;
        hc *= MULT_B;
        v *= hc;
        v ^= v >> XSHIFT;
        out32[i] = v;
    }
    unsigned char bytes[32];
    for (int i = 0; i < 8; i++) {
        bytes[4 * i] = (unsigned char)(out32[i] & 0xff);
        bytes[4 * i + 1] = (unsigned char)((out32[i] >> 8) & 0xff);
        bytes[4 * i + 2] = (unsigned char)((out32[i] >> 16) & 0xff);
        bytes[4 * i + 3] = (unsigned char)((out32[i] >> 24) & 0xff);
    }
    return PyBytes_FromStringAndSize((const char *)bytes, 32);
}

static PyMethodDef methods[] = {
    {"pcg64_state", pcg64_state, METH_VARARGS,
     "SeedSequence(...).generate_state(4, np.uint64) as 32 little-endian bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_seeds",
    "numpy's SeedSequence for seeding PCG64, compiled (see ambsim_gui/sim/rng.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__seeds(void) { return PyModule_Create(&module); }
