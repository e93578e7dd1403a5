/* handle.h: Handle, the Python object that owns one library handle (ipcshm_t *)
 * from the moment the call that makes it returns, and detaches it in C. */
#ifndef IPCSHM_EXT_HANDLE_H
#define IPCSHM_EXT_HANDLE_H

#include "api.h"

/* A link of the list of live handles (see handle_detach_at_exit). */
struct live_link {
  struct live_link *prev, *next;
};

typedef struct HandleObject {
  PyObject_HEAD
  ipcshm_t *h;                        /* NULL once detached */
  int created;                        /* the call returned 1: it created the object */
  Py_ssize_t direct_views;            /* live exporters over the library's mapping */
  struct live_link link;              /* in the list while h may be non-NULL */
  PyObject *weakreflist;
} HandleObject;

extern PyTypeObject Handle_Type;

/* The module functions that make handles, each a thin call of its library
 * function (METH_FASTCALL). */
PyObject *handle_create(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *handle_attach(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *handle_attach_fd(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *handle_recv(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *handle_array_create(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
/* remove(id) -> the library's result, 0 or -errno: unlink() decides. */
PyObject *handle_remove(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* Detaches every live handle but those that exporters of the library's own
 * mapping still use (their views may be read by threads that outlive the
 * interpreter's exit: the kernel unmaps those when the process ends). */
void handle_detach_at_exit(void);

#endif
