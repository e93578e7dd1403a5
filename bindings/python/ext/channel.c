/* channel.c: ChannelEnd, the compiled base of ipcshm.Channel: it owns one
 * ipcshm_channel_t * (closed when it dies) and makes the calls a message takes
 * (send_bytes, recv_bytes, recv_bytes_into, and the raw halves of
 * reserve/commit and peek/release), as ipcshm/_channel_ends.py does over
 * ctypes, with the same arguments and errors. A wait is made of calls of at
 * most a quarter of a second with the GIL released, and the signal handlers
 * run between two (and on -EINTR): Ctrl-C ends it. A call first tries without
 * waiting, with the GIL held: a message that is there costs no GIL switch. */
#include "channel.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>
#include <time.h>

#define SLICE_NS 250000000LL

static PyObject *msgsize_factory; /* MessageTooLongError(length, limit, rc, text) */

int channel_set_msgsize_factory(PyObject *factory) {
  if (!PyCallable_Check(factory)) {
    PyErr_SetString(PyExc_TypeError, "a callable is needed");
    return -1;
  }
  Py_INCREF(factory);
  Py_XSETREF(msgsize_factory, factory);
  return 0;
}

static PyObject *raise_msgsize(uint64_t length, uint64_t limit, int rc) {
  const char *text = ipcshm_api.ipcshm_last_error();
  PyObject *exc;
  if (msgsize_factory == NULL) return ipcshm_api_raise(rc);
  if (text == NULL || text[0] == '\0') text = ipcshm_api.ipcshm_strerror(rc);
  exc = PyObject_CallFunction(msgsize_factory, "KKiy", (unsigned long long)length,
                              (unsigned long long)limit, rc, text);
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return NULL;
}

typedef struct {
  PyObject_HEAD
  ipcshm_channel_t *ch; /* NULL until opened, and once closed */
  unsigned int role;
  unsigned int slot_size;
  int view_kind;     /* _view_kind: 0, 1 a message peeked, 2 a slot reserved */
  PyObject *viewref; /* _viewref: a weak reference to the exporter of the views */
} ChannelEndObject;

/* Whether a view of a peeked message or reserved slot is alive (see
 * _channel_ends.ZeroCopy, which keeps _viewref). */
static int views_alive(ChannelEndObject *self) {
  return self->viewref != NULL && PyWeakref_Check(self->viewref) &&
         PyWeakref_GetObject(self->viewref) != Py_None;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A timeout in seconds (None: for ever) as the library's nanoseconds, as
 * _primitives._timeout_ns converts it. 0, or -1 with an exception set. */
static int timeout_arg(PyObject *arg, int64_t *out) {
  double s;
  if (arg == NULL || arg == Py_None) {
    *out = -1;
    return 0;
  }
  s = PyFloat_AsDouble(arg);
  if (s == -1.0 && PyErr_Occurred()) return -1;
  if (isnan(s)) {
    PyErr_SetString(PyExc_ValueError, "timeout is NaN");
    return -1;
  }
  if (s == -1.0) {
    *out = -1;
    return 0;
  }
  if (s < 0) {
    PyErr_SetString(PyExc_ValueError, "timeout value must be a non-negative number (or None)");
    return -1;
  }
  if (s == 0) {
    *out = 0;
    return 0;
  }
  if (s * 1e9 >= 9.2e18) {
    *out = -1;
    return 0;
  }
  *out = (int64_t)ceil(s * 1e9);
  if (*out < 1) *out = 1;
  return 0;
}

/* What a waiting call does, given the time it may wait. */
struct call {
  ipcshm_channel_t *ch;
  int op; /* 0 send, 1 recv, 2 peek, 3 reserve */
  const void *msg;
  void *buf;
  uint64_t len, cap;
  const void *ptr;
};

static int do_call(struct call *c, int64_t t) {
  switch (c->op) {
    case 0: return ipcshm_api.ipcshm_channel_send(c->ch, c->msg, c->len, t);
    case 1: return ipcshm_api.ipcshm_channel_recv(c->ch, c->buf, c->cap, &c->len, t);
    case 2: return ipcshm_api.ipcshm_channel_peek(c->ch, &c->ptr, &c->len, t);
    default: {
      void *slot = NULL;
      int rc = ipcshm_api.ipcshm_channel_reserve(c->ch, &slot, t);
      c->ptr = slot;
      return rc;
    }
  }
}

#define RAISED INT_MIN /* an exception is set (a signal handler's) */

/* The call, waiting up to timeout_ns (< 0: for ever). Returns its result:
 * -ETIMEDOUT when a timeout > 0 passed, -EAGAIN for 0; RAISED if a signal
 * handler raised. */
static int call_waiting(struct call *c, int64_t timeout_ns) {
  int64_t deadline = -1;
  int rc = do_call(c, 0);
  if (rc != -EAGAIN && rc != -EINTR) return rc;
  if (timeout_ns == 0) {
    while (rc == -EINTR) {
      if (PyErr_CheckSignals() < 0) return RAISED;
      rc = do_call(c, 0);
    }
    return rc;
  }
  if (timeout_ns > 0) deadline = now_ns() + timeout_ns;
  for (;;) {
    int64_t left = -1, t;
    int sliced;
    if (deadline >= 0) {
      left = deadline - now_ns();
      if (left <= 0) {
        rc = do_call(c, 0);
        return rc == -EAGAIN ? -ETIMEDOUT : rc;
      }
    }
    sliced = left < 0 || left > SLICE_NS;
    t = sliced ? SLICE_NS : left;
    Py_BEGIN_ALLOW_THREADS
    rc = do_call(c, t);
    Py_END_ALLOW_THREADS
    if (rc == -EINTR || (sliced && rc == -ETIMEDOUT)) {
      if (PyErr_CheckSignals() < 0) return RAISED;
      continue;
    }
    return rc;
  }
}

static ipcshm_channel_t *open_end(ChannelEndObject *self) {
  if (self->ch == NULL) PyErr_SetString(PyExc_ValueError, "I/O operation on a closed channel");
  return self->ch;
}

/* Parses (positional..., keywords) into slots[names]; the rest stay NULL. */
static int parse(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                 const char *const *names, Py_ssize_t npos, Py_ssize_t nall, PyObject **slots) {
  Py_ssize_t i, j;
  for (i = 0; i < nall; i++) slots[i] = NULL;
  if (nargs > npos) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)",
                 fname, npos, nargs);
    return -1;
  }
  for (i = 0; i < nargs; i++) slots[i] = args[i];
  if (kwnames == NULL) return 0;
  for (j = 0; j < PyTuple_GET_SIZE(kwnames); j++) {
    PyObject *key = PyTuple_GET_ITEM(kwnames, j);
    for (i = 0; i < nall; i++)
      if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) break;
    if (i == nall) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
      return -1;
    }
    if (slots[i] != NULL) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                   names[i]);
      return -1;
    }
    slots[i] = args[nargs + j];
  }
  return 0;
}

static int index_arg(PyObject *arg, Py_ssize_t dflt, Py_ssize_t *out) {
  if (arg == NULL || arg == Py_None) {
    *out = dflt;
    return 0;
  }
  *out = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
  return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *fail(int rc) {
  return rc == RAISED ? NULL : ipcshm_api_raise(rc);
}

/* send_bytes(buf, offset=0, size=None, *, timeout=None) */
static PyObject *ChannelEnd_send_bytes(ChannelEndObject *self, PyObject *const *args,
                                       Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"buf", "offset", "size", "timeout"};
  PyObject *a[4];
  Py_buffer view;
  Py_ssize_t offset, size;
  int64_t timeout;
  struct call c;
  int rc;
  if (parse("send_bytes", args, nargs, kwnames, names, 3, 4, a) < 0) return NULL;
  if (a[0] == NULL) {
    PyErr_SetString(PyExc_TypeError, "send_bytes() missing required argument 'buf'");
    return NULL;
  }
  if (index_arg(a[1], 0, &offset) < 0 || index_arg(a[2], -1, &size) < 0 ||
      timeout_arg(a[3], &timeout) < 0)
    return NULL;
  if ((c.ch = open_end(self)) == NULL) return NULL;
  if (PyObject_GetBuffer(a[0], &view, PyBUF_C_CONTIGUOUS) < 0) return NULL;
  if (offset < 0) {
    PyErr_SetString(PyExc_ValueError, "offset is negative");
    goto bad;
  }
  if (view.len < offset) {
    PyErr_SetString(PyExc_ValueError, "buffer length < offset");
    goto bad;
  }
  if (a[2] == NULL || a[2] == Py_None) {
    size = view.len - offset;
  } else if (size < 0) {
    PyErr_SetString(PyExc_ValueError, "size is negative");
    goto bad;
  } else if (size > view.len - offset) {
    PyErr_SetString(PyExc_ValueError, "buffer length < offset + size");
    goto bad;
  }
  c.op = 0;
  c.msg = size ? (const char *)view.buf + offset : NULL;
  c.len = (uint64_t)size;
  rc = call_waiting(&c, timeout);
  PyBuffer_Release(&view);
  if (rc < 0) {
    if (rc == -EMSGSIZE) return raise_msgsize((uint64_t)size, self->slot_size, rc);
    return fail(rc);
  }
  Py_RETURN_NONE;
bad:
  PyBuffer_Release(&view);
  return NULL;
}

/* recv_bytes(maxlength=None, *, timeout=None) -> bytes: peek, copy, release
 * (one copy, of the message's length); with maxlength, a recv into a buffer
 * of that size (the message stays if it is longer). */
static PyObject *ChannelEnd_recv_bytes(ChannelEndObject *self, PyObject *const *args,
                                       Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"maxlength", "timeout"};
  PyObject *a[2], *out;
  int64_t timeout;
  struct call c;
  int rc;
  if (parse("recv_bytes", args, nargs, kwnames, names, 1, 2, a) < 0 ||
      timeout_arg(a[1], &timeout) < 0)
    return NULL;
  if ((c.ch = open_end(self)) == NULL) return NULL;
  if (a[0] != NULL && a[0] != Py_None) {
    Py_ssize_t maxlength;
    if (index_arg(a[0], 0, &maxlength) < 0) return NULL;
    if (maxlength < 0) {
      PyErr_SetString(PyExc_ValueError, "negative maxlength");
      return NULL;
    }
    out = PyBytes_FromStringAndSize(NULL, maxlength);
    if (out == NULL) return NULL;
    c.op = 1;
    c.buf = PyBytes_AS_STRING(out);
    c.cap = (uint64_t)maxlength;
    c.len = 0;
    rc = call_waiting(&c, timeout);
    if (rc < 0) {
      Py_DECREF(out);
      if (rc == -EMSGSIZE) return raise_msgsize(c.len, (uint64_t)maxlength, rc);
      return fail(rc);
    }
    if ((Py_ssize_t)c.len != maxlength && _PyBytes_Resize(&out, (Py_ssize_t)c.len) < 0)
      return NULL;
    return out;
  }
  if (views_alive(self)) {
    PyErr_SetString(PyExc_BufferError,
                    "cannot receive: a view of the peeked message is still alive");
    return NULL;
  }
  c.op = 2;
  c.ptr = NULL;
  c.len = 0;
  rc = call_waiting(&c, timeout);
  if (rc < 0) return fail(rc);
  out = PyBytes_FromStringAndSize(c.len ? (const char *)c.ptr : NULL, (Py_ssize_t)c.len);
  if (out == NULL) return NULL; /* (the message stays peeked: the next peek gets it) */
  rc = ipcshm_api.ipcshm_channel_release(c.ch);
  if (rc < 0) {
    Py_DECREF(out);
    return ipcshm_api_raise(rc);
  }
  self->view_kind = 0; /* (a message peeked before, with no view left: taken now) */
  Py_CLEAR(self->viewref);
  return out;
}

/* recv_bytes_into(buf, offset=0, *, timeout=None) -> length */
static PyObject *ChannelEnd_recv_bytes_into(ChannelEndObject *self, PyObject *const *args,
                                            Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"buf", "offset", "timeout"};
  PyObject *a[3];
  Py_buffer view;
  Py_ssize_t offset;
  int64_t timeout;
  struct call c;
  int rc;
  if (parse("recv_bytes_into", args, nargs, kwnames, names, 2, 3, a) < 0) return NULL;
  if (a[0] == NULL) {
    PyErr_SetString(PyExc_TypeError, "recv_bytes_into() missing required argument 'buf'");
    return NULL;
  }
  if (index_arg(a[1], 0, &offset) < 0 || timeout_arg(a[2], &timeout) < 0) return NULL;
  if ((c.ch = open_end(self)) == NULL) return NULL;
  if (PyObject_GetBuffer(a[0], &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
    /* a read-only buffer is a TypeError, as socket.recv_into() says it */
    if (PyErr_ExceptionMatches(PyExc_BufferError) &&
        PyObject_GetBuffer(a[0], &view, PyBUF_C_CONTIGUOUS) == 0) {
      PyBuffer_Release(&view);
      PyErr_Clear();
      PyErr_SetString(PyExc_TypeError, "recv_bytes_into needs a writable buffer");
    }
    return NULL;
  }
  if (offset < 0 || offset > view.len) {
    PyBuffer_Release(&view);
    PyErr_SetString(PyExc_ValueError, "offset out of bounds");
    return NULL;
  }
  c.op = 1;
  c.cap = (uint64_t)(view.len - offset);
  c.buf = c.cap ? (char *)view.buf + offset : NULL;
  c.len = 0;
  rc = call_waiting(&c, timeout);
  PyBuffer_Release(&view);
  if (rc < 0) {
    if (rc == -EMSGSIZE) return raise_msgsize(c.len, c.cap, rc);
    return fail(rc);
  }
  return PyLong_FromUnsignedLongLong((unsigned long long)c.len);
}

/* _peek_raw(timeout_ns) -> (address, length) */
static PyObject *ChannelEnd_peek_raw(ChannelEndObject *self, PyObject *arg) {
  long long t = PyLong_AsLongLong(arg);
  struct call c;
  int rc;
  if (t == -1 && PyErr_Occurred()) return NULL;
  if ((c.ch = open_end(self)) == NULL) return NULL;
  c.op = 2;
  c.ptr = NULL;
  c.len = 0;
  rc = call_waiting(&c, (int64_t)t);
  if (rc < 0) return fail(rc);
  return Py_BuildValue("(NK)", PyLong_FromVoidPtr((void *)c.ptr), (unsigned long long)c.len);
}

/* _reserve_raw(timeout_ns) -> address */
static PyObject *ChannelEnd_reserve_raw(ChannelEndObject *self, PyObject *arg) {
  long long t = PyLong_AsLongLong(arg);
  struct call c;
  int rc;
  if (t == -1 && PyErr_Occurred()) return NULL;
  if ((c.ch = open_end(self)) == NULL) return NULL;
  c.op = 3;
  c.ptr = NULL;
  rc = call_waiting(&c, (int64_t)t);
  if (rc < 0) return fail(rc);
  return PyLong_FromVoidPtr((void *)c.ptr);
}

static PyObject *ChannelEnd_release_raw(ChannelEndObject *self, PyObject *unused) {
  ipcshm_channel_t *ch = open_end(self);
  int rc;
  (void)unused;
  if (ch == NULL) return NULL;
  rc = ipcshm_api.ipcshm_channel_release(ch);
  if (rc < 0) return ipcshm_api_raise(rc);
  Py_RETURN_NONE;
}

static PyObject *ChannelEnd_commit_raw(ChannelEndObject *self, PyObject *arg) {
  unsigned long long n = PyLong_AsUnsignedLongLong(arg);
  ipcshm_channel_t *ch;
  int rc;
  if (n == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
  if ((ch = open_end(self)) == NULL) return NULL;
  rc = ipcshm_api.ipcshm_channel_commit(ch, (uint64_t)n);
  if (rc == -EMSGSIZE) return raise_msgsize((uint64_t)n, self->slot_size, rc);
  if (rc < 0) return ipcshm_api_raise(rc);
  Py_RETURN_NONE;
}

static int u32_arg(PyObject *arg, uint32_t *out) {
  unsigned long long v = PyLong_AsUnsignedLongLong(arg);
  if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
  if (v > UINT32_MAX) {
    PyErr_SetString(PyExc_OverflowError, "value does not fit in 32 bits");
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* _open_end("create", id, slot_size, slot_count, perms, flags, role),
 * _open_end("open", id, role), _open_end("fd", fd, role): the library writes
 * the new end into this object (no Python code between the call and its
 * owner). Returns the library's result (1: created). */
static PyObject *ChannelEnd_open_end(ChannelEndObject *self, PyObject *const *args,
                                     Py_ssize_t nargs) {
  const char *how;
  uint32_t role, size = 0, count = 0, perms = 0, flags = 0;
  const char *id = NULL;
  int fd = -1, rc;
  if (!ipcshm_api_bound()) {
    PyErr_SetString(PyExc_RuntimeError, "ipcshm._ext is not bound to a library");
    return NULL;
  }
  if (nargs < 3 || !PyUnicode_Check(args[0]) || (how = PyUnicode_AsUTF8(args[0])) == NULL) {
    PyErr_SetString(PyExc_TypeError, "_open_end(how, ...)");
    return NULL;
  }
  if (self->ch != NULL) {
    PyErr_SetString(PyExc_ValueError, "this channel end is open already");
    return NULL;
  }
  if (u32_arg(args[nargs - 1], &role) < 0) return NULL;
  if (strcmp(how, "fd") == 0) {
    long v = PyLong_AsLong(args[1]);
    if (v == -1 && PyErr_Occurred()) return NULL;
    if (v < INT_MIN || v > INT_MAX) {
      PyErr_SetString(PyExc_OverflowError, "descriptor does not fit in a C int");
      return NULL;
    }
    fd = (int)v;
  } else {
    if (!PyBytes_Check(args[1]) ||
        (Py_ssize_t)strlen(PyBytes_AS_STRING(args[1])) != PyBytes_GET_SIZE(args[1])) {
      PyErr_SetString(PyExc_TypeError, "an id is passed as bytes without a null byte");
      return NULL;
    }
    id = PyBytes_AS_STRING(args[1]);
  }
  if (strcmp(how, "create") == 0) {
    if (nargs != 7 || u32_arg(args[2], &size) < 0 || u32_arg(args[3], &count) < 0 ||
        u32_arg(args[4], &perms) < 0 || u32_arg(args[5], &flags) < 0) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "_open_end('create', ...)");
      return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = ipcshm_api.ipcshm_channel_create(id, size, count, perms, flags, role, &self->ch);
    Py_END_ALLOW_THREADS
  } else if (strcmp(how, "open") == 0 && nargs == 3) {
    Py_BEGIN_ALLOW_THREADS
    rc = ipcshm_api.ipcshm_channel_open(id, role, &self->ch);
    Py_END_ALLOW_THREADS
  } else if (strcmp(how, "fd") == 0 && nargs == 3) {
    Py_BEGIN_ALLOW_THREADS
    rc = ipcshm_api.ipcshm_channel_open_fd(fd, role, &self->ch);
    Py_END_ALLOW_THREADS
  } else {
    PyErr_SetString(PyExc_TypeError, "_open_end('create'|'open'|'fd', ...)");
    return NULL;
  }
  if (rc < 0) return ipcshm_api_raise(rc);
  self->role = role;
  return PyLong_FromLong(rc);
}

/* _close_end() -> 0 or -errno */
static PyObject *ChannelEnd_close_end(ChannelEndObject *self, PyObject *unused) {
  ipcshm_channel_t *ch = self->ch;
  int rc = 0;
  (void)unused;
  if (ch != NULL) {
    self->ch = NULL;
    Py_BEGIN_ALLOW_THREADS /* (it may wait for a call that another thread is in) */
    rc = ipcshm_api.ipcshm_channel_close(ch);
    Py_END_ALLOW_THREADS
  }
  return PyLong_FromLong(rc);
}

static PyObject *ChannelEnd_get_ptr(ChannelEndObject *self, void *closure) {
  (void)closure;
  if (open_end(self) == NULL) return NULL;
  return PyLong_FromVoidPtr(self->ch);
}

static void ChannelEnd_dealloc(ChannelEndObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  if (self->ch != NULL) {
    ipcshm_channel_t *ch = self->ch;
    self->ch = NULL;
    ipcshm_api.ipcshm_channel_close(ch);
  }
  Py_CLEAR(self->viewref);
  tp->tp_free((PyObject *)self);
}

static PyObject *ChannelEnd_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  ChannelEndObject *self = (ChannelEndObject *)type->tp_alloc(type, 0);
  (void)args;
  (void)kwds;
  if (self != NULL) {
    self->ch = NULL;
    self->role = 0;
    self->slot_size = 0;
    self->view_kind = 0;
    self->viewref = NULL;
  }
  return (PyObject *)self;
}

#define FAST(name, fn, doc) \
  {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS, doc}

static PyMethodDef ChannelEnd_methods[] = {
    FAST("send_bytes", ChannelEnd_send_bytes,
         "send_bytes(buf, offset=0, size=None, *, timeout=None): sends size bytes of buf "
         "from offset as one message (ipcshm_channel_send)."),
    FAST("recv_bytes", ChannelEnd_recv_bytes,
         "recv_bytes(maxlength=None, *, timeout=None) -> bytes: the next message."),
    FAST("recv_bytes_into", ChannelEnd_recv_bytes_into,
         "recv_bytes_into(buf, offset=0, *, timeout=None) -> int: copies the next message "
         "into buf and returns its length."),
    {"_peek_raw", (PyCFunction)ChannelEnd_peek_raw, METH_O,
     "_peek_raw(timeout_ns) -> (address, length) (ipcshm_channel_peek)"},
    {"_reserve_raw", (PyCFunction)ChannelEnd_reserve_raw, METH_O,
     "_reserve_raw(timeout_ns) -> address (ipcshm_channel_reserve)"},
    {"_release_raw", (PyCFunction)ChannelEnd_release_raw, METH_NOARGS,
     "ipcshm_channel_release"},
    {"_commit_raw", (PyCFunction)ChannelEnd_commit_raw, METH_O,
     "_commit_raw(length) (ipcshm_channel_commit)"},
    {"_open_end", (PyCFunction)(void (*)(void))ChannelEnd_open_end, METH_FASTCALL,
     "_open_end('create'|'open'|'fd', ..., role) -> the library's result"},
    {"_close_end", (PyCFunction)ChannelEnd_close_end, METH_NOARGS,
     "_close_end() -> 0 or -errno (ipcshm_channel_close)"},
    {NULL, NULL, 0, NULL}};

static PyMemberDef ChannelEnd_members[] = {
    {"_role", T_UINT, offsetof(ChannelEndObject, role), 0, "IPCSHM_SENDER or IPCSHM_RECEIVER"},
    {"_slot_size", T_UINT, offsetof(ChannelEndObject, slot_size), 0, "the slot size"},
    {"_view_kind", T_INT, offsetof(ChannelEndObject, view_kind), 0,
     "0; 1 a message is peeked; 2 a slot is reserved"},
    {"_viewref", T_OBJECT, offsetof(ChannelEndObject, viewref), 0,
     "a weak reference to the exporter of the live views, or None"},
    {NULL, 0, 0, 0, NULL}};

static PyGetSetDef ChannelEnd_getset[] = {
    {"_ptr", (getter)ChannelEnd_get_ptr, NULL, "the end's value (ValueError once closed)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject ChannelEnd_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcshm._ext.ChannelEnd",
    .tp_basicsize = sizeof(ChannelEndObject),
    .tp_dealloc = (destructor)ChannelEnd_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Owns one channel end (ipcshm_channel_t *); closes it when it dies.",
    .tp_methods = ChannelEnd_methods,
    .tp_members = ChannelEnd_members,
    .tp_getset = ChannelEnd_getset,
    .tp_new = ChannelEnd_new,
};
