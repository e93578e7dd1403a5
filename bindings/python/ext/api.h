/* api.h: the functions of libipcshm that the module calls, as pointers resolved
 * at run time from the library that ipcshm._native loaded (so IPCSHM_LIBRARY
 * chooses it for both), and the exception for a failed call. */
#ifndef IPCSHM_EXT_API_H
#define IPCSHM_EXT_API_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* The prototypes, from the declarations that cffi reads too (a test keeps them
 * equal to include/ipcshm.h); only their types are used here. */
#include "../ipcshm/decl.h"

/* One pointer per function, of the declared function's own type: a change of a
 * prototype in decl.h changes the pointer with it. */
#define IPCSHM_EXT_FN(name) __typeof__(&name) name
struct ipcshm_api {
  IPCSHM_EXT_FN(ipcshm_create);
  IPCSHM_EXT_FN(ipcshm_attach);
  IPCSHM_EXT_FN(ipcshm_attach_fd);
  IPCSHM_EXT_FN(ipcshm_recv);
  IPCSHM_EXT_FN(ipcshm_array_create);
  IPCSHM_EXT_FN(ipcshm_detach);
  IPCSHM_EXT_FN(ipcshm_pointer);
  IPCSHM_EXT_FN(ipcshm_size);
  IPCSHM_EXT_FN(ipcshm_id);
  IPCSHM_EXT_FN(ipcshm_remove);
  IPCSHM_EXT_FN(ipcshm_last_error);
  IPCSHM_EXT_FN(ipcshm_strerror);
  IPCSHM_EXT_FN(ipcshm_channel_create);
  IPCSHM_EXT_FN(ipcshm_channel_open);
  IPCSHM_EXT_FN(ipcshm_channel_open_fd);
  IPCSHM_EXT_FN(ipcshm_channel_send);
  IPCSHM_EXT_FN(ipcshm_channel_recv);
  IPCSHM_EXT_FN(ipcshm_channel_reserve);
  IPCSHM_EXT_FN(ipcshm_channel_commit);
  IPCSHM_EXT_FN(ipcshm_channel_peek);
  IPCSHM_EXT_FN(ipcshm_channel_release);
  IPCSHM_EXT_FN(ipcshm_channel_close);
};

/* Every pointer is NULL until bind() has filled the table. */
extern struct ipcshm_api ipcshm_api;

/* bind(addresses, error_factory): fills the table from a dict {name: address}
 * and keeps error_factory(rc, message) -> exception. 0, or -1 with an
 * exception set. */
int ipcshm_api_bind(PyObject *addresses, PyObject *error_factory);

/* Non-zero once bind() succeeded; the module's functions refuse to run before. */
int ipcshm_api_bound(void);

/* Sets the exception for the negative return value `rc` of the library call
 * just made on this thread (its message is read at once), and returns NULL. */
PyObject *ipcshm_api_raise(int rc);

#endif
