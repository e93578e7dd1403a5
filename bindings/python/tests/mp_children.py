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


def make(kind, name, size, data):
    """A new object of `kind` holding `data` at 0, returned to the caller: the
    worker drops it as soon as it is sent."""
    ident = {"posix": name, "persistent": name, "sysv": "private",
             "memfd": "memfd:mp-XXXXXX"}[kind]
    shm = ipcshm.SharedMemory(ident, create=True, size=size,
                              volatile=kind != "persistent")
    shm.buf[:len(data)] = data
    return shm


def make_and_close(kind, name):
    shm = make(kind, name, 100, b"closed")
    shm.close()
    return shm


def write_and_return(shm, offset, data):
    shm.buf[offset:offset + len(data)] = data
    return shm


def read(shm, n):
    with shm:
        return bytes(shm.buf[:n]), shm.readonly, type(shm).__name__


def put_and_exit(q, kind, name, data):
    q.put(make(kind, name, 4096, data))
    # returns at once: the process exits while the object is in the queue


def send_over(conn, kind, name, data):
    conn.send(make(kind, name, 4096, data))
    got = conn.recv()               # the parent sends one back
    conn.send(bytes(got.buf[:5]))
    got.close()
    conn.close()


class Tagged(ipcshm.SharedMemory):
    """A subclass: multiprocessing hands it over as itself."""


def write_all(objects):
    for shm in objects:
        assert shm.buf[0] == ord("x")
        shm.buf[0] = ord("!")
