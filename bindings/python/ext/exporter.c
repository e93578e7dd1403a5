/* exporter.c: the exporter of a mapping's buffers. Every view holds it (and
 * nothing else does: the SharedMemory keeps a weak reference), so "is a view
 * left?" is whether it is alive, and it keeps its Handle alive meanwhile.
 *
 * Its memory is the library's own mapping, or (duplicate=True, for POSIX
 * objects) a second mapping of the same pages made with mremap(old_size 0),
 * which the exporter owns and unmaps when it dies: then the handle can be
 * detached at interpreter exit, and a volatile object go with its last user,
 * while a thread that outlives the exit still reads through a view. A
 * read-only mapping exports read-only buffers only (PyBuffer_FillInfo refuses
 * a writable request), so no Python code writes where the mapping has no
 * write permission. */
#include "exporter.h" /* first: Python.h, whose pyconfig.h defines _GNU_SOURCE (mremap) */

#include <stddef.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22   /* Linux 5.14 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

typedef struct {
  PyObject_HEAD
  HandleObject *handle;   /* kept alive while a view is */
  char *addr;
  Py_ssize_t size;
  int readonly;
  int owns_mapping;       /* addr is a duplicate that this object unmaps */
  PyObject *weakreflist;
} ExporterObject;

static int Exporter_getbuffer(ExporterObject *self, Py_buffer *view, int flags) {
  return PyBuffer_FillInfo(view, (PyObject *)self, self->addr, self->size, self->readonly,
                           flags);
}

static void Exporter_dealloc(ExporterObject *self) {
  if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
  if (self->owns_mapping)
    munmap(self->addr, (size_t)self->size);
  else
    self->handle->direct_views--;
  Py_DECREF(self->handle);
  PyObject_Free(self);
}

static Py_ssize_t Exporter_length(ExporterObject *self) { return self->size; }

/* Indexing, as an mmap's: through a memoryview, which checks the bounds and
 * refuses writes to a read-only buffer (TypeError). */
static PyObject *Exporter_subscript(ExporterObject *self, PyObject *key) {
  PyObject *view = PyMemoryView_FromObject((PyObject *)self), *item;
  if (view == NULL) return NULL;
  item = PyObject_GetItem(view, key);
  if (item != NULL && PyMemoryView_Check(item)) {
    /* a slice: a copy, as mmap gives, not a view that would outlive this one */
    PyObject *copy = PyBytes_FromObject(item);
    Py_DECREF(item);
    item = copy;
  }
  Py_DECREF(view);
  return item;
}

static int Exporter_ass_subscript(ExporterObject *self, PyObject *key, PyObject *value) {
  PyObject *view;
  int rc;
  if (value == NULL) {
    PyErr_SetString(PyExc_TypeError, "cannot delete the memory of a mapping");
    return -1;
  }
  view = PyMemoryView_FromObject((PyObject *)self);
  if (view == NULL) return -1;
  rc = PyObject_SetItem(view, key, value);
  Py_DECREF(view);
  return rc;
}

static PyBufferProcs Exporter_as_buffer = {
    (getbufferproc)Exporter_getbuffer,
    NULL,
};

static PyMappingMethods Exporter_as_mapping = {
    (lenfunc)Exporter_length,
    (binaryfunc)Exporter_subscript,
    (objobjargproc)Exporter_ass_subscript,
};

PyTypeObject Exporter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcshm._ext.Exporter",
    .tp_basicsize = sizeof(ExporterObject),
    .tp_dealloc = (destructor)Exporter_dealloc,
    .tp_as_mapping = &Exporter_as_mapping,
    .tp_as_buffer = &Exporter_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The memory of a shared mapping, exported to every view of it.",
    .tp_weaklistoffset = offsetof(ExporterObject, weakreflist),
};

PyObject *exporter_export(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
  HandleObject *handle;
  ExporterObject *self;
  PyObject *buf, *ref, *result;
  char *ptr;
  uint64_t size;
  int readonly, duplicate, prefault;
  (void)module;
  if (nargs != 5 || !PyObject_TypeCheck(args[0], &Handle_Type) || !PyUnicode_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError, "export(handle, id, readonly, prefault, duplicating)");
    return NULL;
  }
  handle = (HandleObject *)args[0];
  if ((readonly = PyObject_IsTrue(args[2])) < 0 || (prefault = PyObject_IsTrue(args[3])) < 0 ||
      (duplicate = PyObject_IsTrue(args[4])) < 0)
    return NULL;
  duplicate = duplicate && PyUnicode_GET_LENGTH(args[1]) > 0 &&
              PyUnicode_READ_CHAR(args[1], 0) == '/';
  ptr = handle->h != NULL ? ipcshm_api.ipcshm_pointer(handle->h) : NULL;
  size = handle->h != NULL ? ipcshm_api.ipcshm_size(handle->h) : 0;
  if (ptr == NULL || size == 0) {
    PyErr_SetString(PyExc_ValueError, "the library gave no mapping (a detached handle?)");
    return NULL;
  }
  if (size > (uint64_t)PY_SSIZE_T_MAX) {
    PyErr_SetString(PyExc_OverflowError, "the mapping is larger than Python can index");
    return NULL;
  }
  self = PyObject_New(ExporterObject, &Exporter_Type);
  if (self == NULL) return NULL;
  Py_INCREF(handle);
  self->handle = handle;
  self->size = (Py_ssize_t)size;
  self->readonly = readonly;
  self->weakreflist = NULL;
  self->addr = MAP_FAILED;
  if (duplicate) {
    /* A second mapping of the same pages, with the same protection; it fails
       for huge pages (hugetlbfs) and past RLIMIT_MEMLOCK for a locked mapping:
       then the library's own mapping serves. */
    self->addr = mremap(ptr, 0, (size_t)size, MREMAP_MAYMOVE);
  }
  if (self->addr != MAP_FAILED) {
    self->owns_mapping = 1;
    if (prefault) /* page table entries for this mapping too (the pages are there) */
      (void)madvise(self->addr, (size_t)size,
                    readonly ? MADV_POPULATE_READ : MADV_POPULATE_WRITE);
  } else {
    self->owns_mapping = 0;
    self->addr = ptr;
    handle->direct_views++;
  }
  /* From here the exporter owns what it maps; dropping it undoes everything. */
  buf = PyMemoryView_FromObject((PyObject *)self);
  if (buf == NULL) {
    Py_DECREF(self);
    return NULL;
  }
  ref = PyWeakref_NewRef((PyObject *)self, NULL);
  Py_DECREF(self); /* buf holds it: the exporter lives exactly as long as views */
  if (ref == NULL) {
    Py_DECREF(buf);
    return NULL;
  }
  result = Py_BuildValue("(NNK)", buf, ref, (unsigned long long)size);
  return result;
}
