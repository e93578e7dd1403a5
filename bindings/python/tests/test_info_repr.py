"""ShmInfo prints kinds and flags by name, modes in octal and keys in hex."""
import ipcshm
from conftest import unique_key


def test_posix_info_prints_names_octal_and_hex(name):
    with ipcshm.SharedMemory(name, create=True, size=4096, perms=0o640) as shm:
        i = shm.info()
        text = repr(i)
        assert text.startswith("ShmInfo(struct_size=88, kind=IPCSHM_KIND_POSIX, size=4096,")
        assert ", mode=0o640," in text and ", key=0x00000000," in text
        assert text.endswith(", shmid=-1, flags=0)")
        assert str(i) == text
        assert i.kind == ipcshm.IPCSHM_KIND_POSIX and i.mode == 0o640     # still ints


def test_sysv_keys_print_as_ipcs_does(cleanup):
    key = unique_key()
    with ipcshm.SharedMemory("key:%d" % key, create=True, size=100, volatile=False,
                             perms=0o604) as seg:
        cleanup.append(seg.id)
        text = repr(seg.info())
        assert "kind=IPCSHM_KIND_SYSV" in text and "mode=0o604" in text
        assert "key=0x%08x" % key in text and "flags=IPCSHM_PERSISTENT" in text
        assert "shmid=%s" % seg.id.split(":")[1] in text


def test_negative_keys_and_unknown_values():
    i = ipcshm.ShmInfo(88, 99, 1, 0, 0, 0, 0, 0o1777, 0, 0, 0, 0, 1, 2, -5, 7,
                       ipcshm.IPCSHM_PERSISTENT | ipcshm.IPCSHM_HUGEPAGES | 0x100)
    text = str(i)
    assert "kind=99," in text and "mode=0o1777," in text and "key=0xfffffffb," in text
    assert text.endswith("flags=IPCSHM_PERSISTENT|IPCSHM_HUGEPAGES|0x100)")
    assert i.key == -5


def test_memfd_kind_by_name():
    with ipcshm.SharedMemory("memfd:repr-XXXXXX", create=True, size=10) as shm:
        assert "kind=IPCSHM_KIND_MEMFD" in repr(shm.info())
