/* handle.c: Handle objects and the functions that make them. The library
 * writes a new handle straight into the Handle that owns it (the out-parameter
 * is its field), so no Python code runs between the call and the ownership: an
 * exception that arrives then (Ctrl-C) drops the Handle, which detaches. */
#include "handle.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

/* The live handles, a list threaded through them (the GIL guards it). */
static struct live_link live = {&live, &live};

static void link_live(HandleObject *self) {
  struct live_link *l = &self->link;
  l->next = live.next;
  l->prev = &live;
  live.next->prev = l;
  live.next = l;
}

static void unlink_live(HandleObject *self) {
  struct live_link *l = &self->link;
  if (l->next == NULL) return;
  l->prev->next = l->next;
  l->next->prev = l->prev;
  l->next = l->prev = NULL;
}

static void detach(HandleObject *self) {
  ipcshm_t *h = self->h;
  unlink_live(self);
  if (h != NULL) {
    self->h = NULL;
    ipcshm_api.ipcshm_detach(h);
  }
}

static HandleObject *new_handle(void) {
  HandleObject *self;
  if (!ipcshm_api_bound()) {
    PyErr_SetString(PyExc_RuntimeError, "ipcshm._ext is not bound to a library");
    return NULL;
  }
  self = PyObject_New(HandleObject, &Handle_Type);
  if (self == NULL) return NULL;
  self->h = NULL;
  self->created = 0;
  self->direct_views = 0;
  self->link.prev = self->link.next = NULL;
  self->weakreflist = NULL;
  return self;
}

/* The Handle of a call's result: it owns self->h already; on failure it is
 * dropped (nothing to detach: the library leaves the out-parameter alone). */
static PyObject *adopt(HandleObject *self, int rc) {
  if (rc < 0) {
    Py_DECREF(self);
    return ipcshm_api_raise(rc);
  }
  self->created = rc == 1;
  link_live(self);
  return (PyObject *)self;
}

static void Handle_dealloc(HandleObject *self) {
  if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
  detach(self);
  PyObject_Free(self);
}

/* Not while an exporter of the library's own mapping lives (its views would
   point at unmapped memory): the handle is detached when the last one goes. */
static PyObject *Handle_detach_now(HandleObject *self, PyObject *unused) {
  (void)unused;
  if (self->direct_views == 0) detach(self);
  Py_RETURN_NONE;
}

static PyObject *Handle_get_out(HandleObject *self, void *unused) {
  (void)unused;
  if (self->h == NULL) Py_RETURN_NONE;
  return PyLong_FromVoidPtr(self->h);
}

static PyObject *Handle_get_id(HandleObject *self, void *unused) {
  const char *id;
  (void)unused;
  id = self->h != NULL ? ipcshm_api.ipcshm_id(self->h) : NULL;
  if (id == NULL) {
    PyErr_SetString(PyExc_ValueError, "the handle is detached");
    return NULL;
  }
  return PyUnicode_DecodeUTF8(id, (Py_ssize_t)strlen(id), "surrogateescape");
}

static PyObject *Handle_get_created(HandleObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->created);
}

static PyObject *Handle_get_direct(HandleObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->direct_views > 0);
}

static PyMethodDef Handle_methods[] = {
    {"detach_now", (PyCFunction)Handle_detach_now, METH_NOARGS,
     "Detaches the handle now (a failure path: a traceback may keep this object), "
     "unless a view of the library's mapping is alive."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Handle_getset[] = {
    {"out", (getter)Handle_get_out, NULL,
     "The handle as an int for ctypes (c_void_p), None once detached.", NULL},
    {"id", (getter)Handle_get_id, NULL, "The canonical id (ipcshm_id).", NULL},
    {"created", (getter)Handle_get_created, NULL,
     "True if the call that made it created the object.", NULL},
    {"direct", (getter)Handle_get_direct, NULL,
     "True while an exporter of the library's own mapping is alive.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject Handle_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcshm._ext.Handle",
    .tp_basicsize = sizeof(HandleObject),
    .tp_dealloc = (destructor)Handle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Owns one libipcshm handle; detaches it when it dies.",
    .tp_weaklistoffset = offsetof(HandleObject, weakreflist),
    .tp_methods = Handle_methods,
    .tp_getset = Handle_getset,
};

/* Arguments: the Python side has checked them already; here they are only
 * converted, refusing what does not fit rather than truncating. */

static int arg_count(const char *fname, Py_ssize_t nargs, Py_ssize_t want) {
  if (nargs == want) return 0;
  PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", fname, want, nargs);
  return -1;
}

static const char *arg_id(PyObject *arg) {
  const char *s;
  Py_ssize_t n;
  if (!PyBytes_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "an id is passed as bytes");
    return NULL;
  }
  s = PyBytes_AS_STRING(arg);
  n = PyBytes_GET_SIZE(arg);
  if ((Py_ssize_t)strlen(s) != n) {
    PyErr_SetString(PyExc_ValueError, "embedded null byte");
    return NULL;
  }
  return s;
}

static int arg_u64(PyObject *arg, uint64_t *out) {
  unsigned long long v = PyLong_AsUnsignedLongLong(arg);
  if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
  *out = (uint64_t)v;
  return 0;
}

static int arg_u32(PyObject *arg, uint32_t *out) {
  uint64_t v;
  if (arg_u64(arg, &v) < 0) return -1;
  if (v > UINT32_MAX) {
    PyErr_SetString(PyExc_OverflowError, "value does not fit in 32 bits");
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

static int arg_int(PyObject *arg, int *out) {
  long v = PyLong_AsLong(arg);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (v < INT_MIN || v > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "descriptor does not fit in a C int");
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* create(id: bytes, size, perms, flags) -> Handle */
PyObject *handle_create(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  const char *id;
  uint64_t size;
  uint32_t perms, flags;
  HandleObject *self;
  int rc;
  (void)module;
  if (arg_count("create", nargs, 4) < 0 || (id = arg_id(args[0])) == NULL ||
      arg_u64(args[1], &size) < 0 || arg_u32(args[2], &perms) < 0 ||
      arg_u32(args[3], &flags) < 0 || (self = new_handle()) == NULL)
    return NULL;
  /* (`id` stays valid: the caller holds args[0]) */
  Py_BEGIN_ALLOW_THREADS
  rc = ipcshm_api.ipcshm_create(id, size, perms, flags, &self->h);
  Py_END_ALLOW_THREADS
  return adopt(self, rc);
}

/* attach(id: bytes, flags) -> Handle */
PyObject *handle_attach(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  const char *id;
  uint32_t flags;
  HandleObject *self;
  int rc;
  (void)module;
  if (arg_count("attach", nargs, 2) < 0 || (id = arg_id(args[0])) == NULL ||
      arg_u32(args[1], &flags) < 0 || (self = new_handle()) == NULL)
    return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = ipcshm_api.ipcshm_attach(id, flags, &self->h);
  Py_END_ALLOW_THREADS
  return adopt(self, rc);
}

/* attach_fd(fd, flags) -> Handle */
PyObject *handle_attach_fd(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  int fd, rc;
  uint32_t flags;
  HandleObject *self;
  (void)module;
  if (arg_count("attach_fd", nargs, 2) < 0 || arg_int(args[0], &fd) < 0 ||
      arg_u32(args[1], &flags) < 0 || (self = new_handle()) == NULL)
    return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = ipcshm_api.ipcshm_attach_fd(fd, flags, &self->h);
  Py_END_ALLOW_THREADS
  return adopt(self, rc);
}

/* recv(sock, flags) -> Handle */
PyObject *handle_recv(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  int fd, rc;
  uint32_t flags;
  HandleObject *self;
  (void)module;
  if (arg_count("recv", nargs, 2) < 0 || arg_int(args[0], &fd) < 0 ||
      arg_u32(args[1], &flags) < 0 || (self = new_handle()) == NULL)
    return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = ipcshm_api.ipcshm_recv(fd, flags, &self->h);
  Py_END_ALLOW_THREADS
  return adopt(self, rc);
}

/* array_create(id: bytes, etype, dims: tuple of ints, perms, flags) -> Handle */
PyObject *handle_array_create(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  const char *id;
  uint32_t etype, perms, flags;
  Py_ssize_t ndims, i;
  int64_t *dims;
  HandleObject *self;
  int rc;
  (void)module;
  if (arg_count("array_create", nargs, 5) < 0 || (id = arg_id(args[0])) == NULL ||
      arg_u32(args[1], &etype) < 0 || arg_u32(args[3], &perms) < 0 ||
      arg_u32(args[4], &flags) < 0)
    return NULL;
  if (!PyTuple_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError, "the dimensions are a tuple of ints");
    return NULL;
  }
  ndims = PyTuple_GET_SIZE(args[2]);
  if (ndims > UINT32_MAX) {
    PyErr_SetString(PyExc_OverflowError, "too many dimensions");
    return NULL;
  }
  dims = PyMem_New(int64_t, ndims > 0 ? ndims : 1);
  if (dims == NULL) return PyErr_NoMemory();
  for (i = 0; i < ndims; i++) {
    long long d = PyLong_AsLongLong(PyTuple_GET_ITEM(args[2], i));
    if (d == -1 && PyErr_Occurred()) {
      PyMem_Free(dims);
      return NULL;
    }
    dims[i] = (int64_t)d;
  }
  self = new_handle();
  if (self == NULL) {
    PyMem_Free(dims);
    return NULL;
  }
  Py_BEGIN_ALLOW_THREADS
  rc = ipcshm_api.ipcshm_array_create(id, etype, (uint32_t)ndims, dims, perms, flags,
                                      &self->h);
  Py_END_ALLOW_THREADS
  PyMem_Free(dims);
  return adopt(self, rc);
}

PyObject *handle_remove(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  const char *id;
  int rc;
  (void)module;
  if (arg_count("remove", nargs, 1) < 0 || (id = arg_id(args[0])) == NULL) return NULL;
  if (!ipcshm_api_bound()) {
    PyErr_SetString(PyExc_RuntimeError, "ipcshm._ext is not bound to a library");
    return NULL;
  }
  rc = ipcshm_api.ipcshm_remove(id);
  return PyLong_FromLong(rc);
}

void handle_detach_at_exit(void) {
  struct live_link *l = live.next;
  while (l != &live) {
    struct live_link *next = l->next;
    HandleObject *self = (HandleObject *)((char *)l - offsetof(HandleObject, link));
    if (self->direct_views == 0) detach(self);
    l = next;
  }
}
