"""The condition-variable pattern across processes with ipcshm: a Mutex guards
the shared state, an Event announces each change of it. A waiter reads the
event's sequence while it holds the mutex, releases the mutex, then waits for
the sequence to move on: a notify() that comes in between is not lost.

Here a producer hands numbers to a consumer, in another process, through a
one-slot mailbox in a new volatile object:

    offset 0    Mutex     (ipcshm.IPCSHM_MUTEX_SIZE bytes)
    offset 64   Event
    offset 128  full      (uint32: 1 while the slot holds a number)
    offset 136  number    (uint64)

usage: condition.py [COUNT]        the producer; it starts the consumer itself
       condition.py consume ID     the consumer (another process)
"""
import struct
import subprocess
import sys

import ipcshm

MUTEX, EVENT, FULL, NUMBER, SIZE = 0, 64, 128, 136, 4096


def locked(m, shm):
    """Takes the mutex. If the other process died holding it, the slot may be
    half-written: empty it, mark the state repaired, and go on holding it."""
    try:
        m.acquire()
    except ipcshm.OwnerDeadError as e:
        struct.pack_into("=I", shm.buf, FULL, 0)
        e.consistent()


def wait_until(m, ev, shm, full):
    """Holding the mutex, waits until the slot's `full` flag is `full`; holds
    the mutex again when it returns."""
    while struct.unpack_from("=I", shm.buf, FULL)[0] != full:
        seen = ev.sequence()         # under the mutex: before looking away
        m.release()
        ev.wait(seen)                # returns once a notify() came after `seen`
        locked(m, shm)


def produce(count):
    with ipcshm.SharedMemory("/condition-XXXXXX", create=True, size=SIZE) as shm:
        m = ipcshm.Mutex(shm, MUTEX, init=True)
        ev = ipcshm.Event(shm, EVENT, init=True)
        consumer = subprocess.Popen([sys.executable, __file__, "consume", shm.id],
                                    stdout=subprocess.PIPE, text=True)
        for number in range(1, count + 1):
            locked(m, shm)
            wait_until(m, ev, shm, full=0)
            struct.pack_into("=Q", shm.buf, NUMBER, number)
            struct.pack_into("=I", shm.buf, FULL, 1)
            m.release()
            ev.notify()              # after the change, outside the lock
        locked(m, shm)
        wait_until(m, ev, shm, full=0)       # the last number was taken
        struct.pack_into("=Q", shm.buf, NUMBER, 0)      # 0: no more
        struct.pack_into("=I", shm.buf, FULL, 1)
        m.release()
        ev.notify()
        out, _ = consumer.communicate(timeout=120)
        del m, ev                    # the primitives keep the mapping: let go first
    print(out, end="")
    print("producer: handed over %d numbers" % count)
    return consumer.returncode


def consume(ident):
    with ipcshm.SharedMemory(ident) as shm:
        m = ipcshm.Mutex(shm, MUTEX)
        ev = ipcshm.Event(shm, EVENT)
        total = received = 0
        while True:
            locked(m, shm)
            wait_until(m, ev, shm, full=1)
            number = struct.unpack_from("=Q", shm.buf, NUMBER)[0]
            struct.pack_into("=I", shm.buf, FULL, 0)
            m.release()
            ev.notify()
            if number == 0:
                break
            total += number
            received += 1
        del m, ev
    print("consumer: received %d numbers, sum %d" % (received, total))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["consume"]:
        sys.exit(consume(sys.argv[2]))
    sys.exit(produce(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
