"""Functions that multiprocessing (spawn) children run; importable by name."""
import ipcshm


def write_into(shm, offset, data):
    # `shm` arrives pickled: the child attached it anew by its id.
    with shm:
        shm.buf[offset:offset + len(data)] = data
        return shm.id, shm.created


def attach_and_write(ident, offset, data):
    with ipcshm.SharedMemory(ident) as shm:
        shm.buf[offset:offset + len(data)] = data
        return shm.size
