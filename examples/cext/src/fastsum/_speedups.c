/* fastsum._speedups: a small C extension that works on CPython and PyPy
 * (through cpyext). sum_squares(iterable of ints) -> int, and built_for()
 * naming the interpreter whose headers compiled it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *sum_squares(PyObject *self, PyObject *arg) {
  (void)self;
  PyObject *it = PyObject_GetIter(arg);
  if (it == NULL) return NULL;
  long long total = 0;
  PyObject *item;
  while ((item = PyIter_Next(it)) != NULL) {
    long long v = PyLong_AsLongLong(item);
    Py_DECREF(item);
    if (v == -1 && PyErr_Occurred()) {
      Py_DECREF(it);
      return NULL;
    }
    total += v * v;
  }
  Py_DECREF(it);
  if (PyErr_Occurred()) return NULL;
  return PyLong_FromLongLong(total);
}

static PyObject *built_for(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
#ifdef PYPY_VERSION
  return PyUnicode_FromFormat("pypy %d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
#else
  return PyUnicode_FromFormat("cpython %d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
#endif
}

static PyMethodDef methods[] = {
    {"sum_squares", sum_squares, METH_O, "Sum of the squares of an iterable of ints."},
    {"built_for", built_for, METH_NOARGS, "The interpreter this module was compiled for."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastsum._speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
