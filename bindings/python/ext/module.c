/* module.c: the module ipcshm._ext, a compiled fast path over libipcshm's C
 * ABI for the calls that Python makes most (create, attach, the buffers of a
 * mapping). It implements nothing of the library's own: each function is a
 * call of the library's, with its arguments converted and its handle owned.
 * One file per concern: api.c (the library's functions and errors), handle.c
 * (handles), exporter.c (buffers), channel.c (channel ends, since 1.2). A new concern gets a file and a line in
 * the table below. */
#include "channel.h"
#include "exporter.h"
#include "handle.h"

/* The interface version that ipcshm/_accel.py checks: an extension built from
 * other sources than the package's Python files is not used. */
#define IPCSHM_EXT_API_VERSION 2

static PyObject *ext_bind(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  (void)module;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "bind(addresses, error_factory)");
    return NULL;
  }
  if (ipcshm_api_bind(args[0], args[1]) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *ext_set_msgsize_error(PyObject *module, PyObject *factory) {
  (void)module;
  if (channel_set_msgsize_factory(factory) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *ext_detach_at_exit(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  handle_detach_at_exit();
  Py_RETURN_NONE;
}

static PyMethodDef ext_methods[] = {
    {"bind", (PyCFunction)(void (*)(void))ext_bind, METH_FASTCALL,
     "bind(addresses, error_factory): the library's functions ({name: address}) "
     "and error_factory(rc, message) -> exception."},
    {"create", (PyCFunction)(void (*)(void))handle_create, METH_FASTCALL,
     "create(id, size, perms, flags) -> Handle (ipcshm_create)"},
    {"attach", (PyCFunction)(void (*)(void))handle_attach, METH_FASTCALL,
     "attach(id, flags) -> Handle (ipcshm_attach)"},
    {"attach_fd", (PyCFunction)(void (*)(void))handle_attach_fd, METH_FASTCALL,
     "attach_fd(fd, flags) -> Handle (ipcshm_attach_fd)"},
    {"recv", (PyCFunction)(void (*)(void))handle_recv, METH_FASTCALL,
     "recv(sock, flags) -> Handle (ipcshm_recv)"},
    {"array_create", (PyCFunction)(void (*)(void))handle_array_create, METH_FASTCALL,
     "array_create(id, etype, dims, perms, flags) -> Handle (ipcshm_array_create)"},
    {"remove", (PyCFunction)(void (*)(void))handle_remove, METH_FASTCALL,
     "remove(id) -> 0 or -errno (ipcshm_remove; the caller raises)"},
    {"export", (PyCFunction)(void (*)(void))exporter_export, METH_FASTCALL,
     "export(handle, id, readonly, prefault, duplicating) -> (buf, weakref to "
     "its exporter, size)"},
    {"set_msgsize_error", ext_set_msgsize_error, METH_O,
     "set_msgsize_error(factory): factory(length, limit, rc, message) -> the exception "
     "of -EMSGSIZE from a channel."},
    {"detach_at_exit", ext_detach_at_exit, METH_NOARGS,
     "Detaches the live handles that no view of the library's mapping uses."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef ext_module = {
    PyModuleDef_HEAD_INIT, "_ext",
    "The compiled fast path of ipcshm over libipcshm's C ABI (see module.c).", -1,
    ext_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__ext(void) {
  PyObject *m;
  if (PyType_Ready(&Handle_Type) < 0 || PyType_Ready(&Exporter_Type) < 0 ||
      PyType_Ready(&ChannelEnd_Type) < 0)
    return NULL;
  m = PyModule_Create(&ext_module);
  if (m == NULL) return NULL;
  Py_INCREF(&Handle_Type);
  Py_INCREF(&Exporter_Type);
  Py_INCREF(&ChannelEnd_Type);
  if (PyModule_AddObject(m, "Handle", (PyObject *)&Handle_Type) < 0 ||
      PyModule_AddObject(m, "Exporter", (PyObject *)&Exporter_Type) < 0 ||
      PyModule_AddObject(m, "ChannelEnd", (PyObject *)&ChannelEnd_Type) < 0 ||
      PyModule_AddIntConstant(m, "API_VERSION", IPCSHM_EXT_API_VERSION) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
