/* channel.h: ChannelEnd, the compiled base class of ipcshm.Channel (one
 * channel end and the calls its messages take). */
#ifndef IPCSHM_EXT_CHANNEL_H
#define IPCSHM_EXT_CHANNEL_H

#include "api.h"

extern PyTypeObject ChannelEnd_Type;

/* The factory of MessageTooLongError(length, limit, rc, message). 0, or -1
 * with an exception set. */
int channel_set_msgsize_factory(PyObject *factory);

#endif
