/* api.c: the table of libipcshm's functions, filled from the addresses of the
 * library that ctypes loaded, and the one place that turns -errno into an
 * exception (through ipcshm._errors, so both backends raise the same). */
#include "api.h"

#include <stddef.h>
#include <string.h>

struct ipcshm_api ipcshm_api;

static PyObject *error_factory;

#define ENTRY(name) {#name, offsetof(struct ipcshm_api, name)}
static const struct {
  const char *name;
  size_t offset;
} entries[] = {
    ENTRY(ipcshm_create),  ENTRY(ipcshm_attach),   ENTRY(ipcshm_attach_fd),
    ENTRY(ipcshm_recv),    ENTRY(ipcshm_array_create), ENTRY(ipcshm_detach),
    ENTRY(ipcshm_pointer), ENTRY(ipcshm_size),     ENTRY(ipcshm_id),     ENTRY(ipcshm_remove),
    ENTRY(ipcshm_last_error), ENTRY(ipcshm_strerror),
    ENTRY(ipcshm_channel_create), ENTRY(ipcshm_channel_open), ENTRY(ipcshm_channel_open_fd),
    ENTRY(ipcshm_channel_send), ENTRY(ipcshm_channel_recv), ENTRY(ipcshm_channel_reserve),
    ENTRY(ipcshm_channel_commit), ENTRY(ipcshm_channel_peek), ENTRY(ipcshm_channel_release),
    ENTRY(ipcshm_channel_close),
};

int ipcshm_api_bind(PyObject *addresses, PyObject *factory) {
  struct ipcshm_api table;
  size_t i;
  if (!PyDict_Check(addresses)) {
    PyErr_SetString(PyExc_TypeError, "bind() takes a dict {function name: address}");
    return -1;
  }
  if (!PyCallable_Check(factory)) {
    PyErr_SetString(PyExc_TypeError, "bind() takes a callable error factory");
    return -1;
  }
  memset(&table, 0, sizeof table);
  for (i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    PyObject *value = PyDict_GetItemString(addresses, entries[i].name);
    void *address;
    if (value == NULL) {
      PyErr_Format(PyExc_ImportError, "the library has no %s", entries[i].name);
      return -1;
    }
    address = PyLong_AsVoidPtr(value);
    if (address == NULL) {
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_ImportError, "%s is at address 0", entries[i].name);
      return -1;
    }
    /* (a copy, not a cast: ISO C has no conversion between object and
       function pointers; on the platforms the library runs on they are the
       same size and representation, as dlsym() requires) */
    memcpy((char *)&table + entries[i].offset, &address, sizeof address);
  }
  Py_INCREF(factory);
  Py_XSETREF(error_factory, factory);
  ipcshm_api = table;
  return 0;
}

int ipcshm_api_bound(void) { return error_factory != NULL; }

PyObject *ipcshm_api_raise(int rc) {
  const char *text = ipcshm_api.ipcshm_last_error();
  PyObject *exc;
  if (text == NULL || text[0] == '\0') text = ipcshm_api.ipcshm_strerror(rc);
  exc = PyObject_CallFunction(error_factory, "iy", rc, text);
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return NULL;
}
