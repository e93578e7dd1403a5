/* exporter.h: Exporter, the one object that every buffer of a mapping holds
 * (buf, its slices, numpy arrays...), and export(), which makes it. */
#ifndef IPCSHM_EXT_EXPORTER_H
#define IPCSHM_EXT_EXPORTER_H

#include "handle.h"

extern PyTypeObject Exporter_Type;

/* export(handle, id, readonly, prefault, duplicating) -> (buf, weakref to the
 * exporter, size); a POSIX object ("/name") gets a second mapping unless
 * duplicating is false. */
PyObject *exporter_export(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
