"""Several processes: create in one, attach by id in another."""
import multiprocessing
import signal
import textwrap

import pytest

import ipcshm
import mp_children
from conftest import run_python, shm_exists, start_python


def test_child_attaches_by_name_and_writes():
    with ipcshm.SharedMemory(create=True, size=4096) as shm:
        try:
            shm.buf[:5] = b"hello"
            r = run_python(
                "import sys, ipcshm\n"
                "with ipcshm.SharedMemory(sys.argv[1]) as s:\n"
                "    assert bytes(s.buf[:5]) == b'hello' and s.size == 4096\n"
                "    s.buf[5:11] = b' world'\n", shm.name)
            assert r.returncode == 0
            assert bytes(shm.buf[:11]) == b"hello world"
            assert shm_exists(shm.name)         # the creator still uses it
        finally:
            shm.unlink()


@pytest.mark.parametrize("kind", ["posix", "sysv"])
def test_multiprocessing_spawn_passes_shared_memory(name, kind):
    ctx = multiprocessing.get_context("spawn")
    ident = name if kind == "posix" else "private"
    with ipcshm.SharedMemory(ident, create=True, size=1000) as shm, ctx.Pool(1) as pool:
        got_id, created = pool.apply(mp_children.write_into, (shm, 10, b"from child"))
        assert got_id == shm.id and not created
        assert bytes(shm.buf[10:20]) == b"from child"
        size = pool.apply(mp_children.attach_and_write, (shm.id, 0, b"again"))
        assert size == 1000 and bytes(shm.buf[:5]) == b"again"


def test_volatile_object_lives_while_any_process_uses_it(name):
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    shm.buf[0] = 1
    with start_python(textwrap.dedent("""
            import sys, ipcshm
            shm = ipcshm.SharedMemory(sys.argv[1])
            print("attached", flush=True)
            sys.stdin.readline()
            shm.buf[0] = 77
            shm.close()
            print("closed", flush=True)
            """), name) as child:
        assert child.stdout.readline() == "attached\n"
        shm.close()                        # the creator leaves first ...
        assert shm_exists(name)            # ... the child still holds it
        with ipcshm.SharedMemory(name, readonly=True) as peek:
            assert peek.buf[0] == 1
        child.stdin.write("go\n")
        assert child.stdout.readline() == "closed\n"
        assert child.wait(10) == 0
        assert not shm_exists(name)        # gone with its last user


def test_volatile_object_survives_a_killed_user_and_goes_with_the_last(name):
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        with start_python(textwrap.dedent("""
                import sys, ipcshm
                shm = ipcshm.SharedMemory(sys.argv[1])
                shm.buf[0] = 5
                print("attached", flush=True)
                sys.stdin.readline()
                """), name) as child:
            assert child.stdout.readline() == "attached\n"
            child.kill()                   # dies holding it
            child.wait()
        assert shm_exists(name) and shm.buf[0] == 5
    assert not shm_exists(name)            # closed by its last user


def test_orphaned_volatile_object_is_reclaimed(name):
    with start_python(textwrap.dedent("""
            import sys, ipcshm
            shm = ipcshm.SharedMemory(sys.argv[1], create=True, size=100)
            print("created", flush=True)
            sys.stdin.readline()
            """), name) as child:
        assert child.stdout.readline() == "created\n"
        child.send_signal(signal.SIGKILL)  # all its users die, nobody detaches
        child.wait()
    assert shm_exists(name)                # the name is still there ...
    with pytest.raises(FileNotFoundError, match="users are all gone"):
        ipcshm.SharedMemory(name)          # ... but it is gone as an object
    assert not shm_exists(name)            # and attach removed it


def test_persistent_object_outlives_its_creator(name):
    run_python(
        "import sys, ipcshm\n"
        "s = ipcshm.SharedMemory(sys.argv[1], create=True, size=64, volatile=False)\n"
        "s.buf[:4] = b'kept'\n", name)     # exits without close or unlink
    assert shm_exists(name)
    with ipcshm.SharedMemory(name) as shm:
        assert bytes(shm.buf[:4]) == b"kept" and not shm.volatile
        shm.unlink()
    assert not shm_exists(name)


@pytest.mark.parametrize("kind", ["posix", "sysv"])
def test_writing_a_readonly_mapping_kills_the_writer(name, kind):
    ident = name if kind == "posix" else "private"
    with ipcshm.SharedMemory(ident, create=True, size=4096) as shm:
        shm.buf[0] = 11
        r = run_python(textwrap.dedent("""
            import ctypes, resource, sys, ipcshm
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))   # no core file
            shm = ipcshm.SharedMemory(sys.argv[1], readonly=True)
            try:
                shm.buf[0] = 1
            except TypeError as e:
                print("TypeError:", e, flush=True)
            # Below Python's checks: ctypes writes through the read-only mapping.
            lib = ipcshm._native.lib
            h = ctypes.c_void_p()
            assert lib.ipcshm_attach(sys.argv[1].encode(), ipcshm.IPCSHM_READONLY,
                                     ctypes.byref(h)) == 0
            p = lib.ipcshm_pointer(h)
            print("writing", flush=True)
            ctypes.memset(p, 99, 1)
            print("survived", flush=True)
            """), shm.id, check=False)
        assert r.returncode == -signal.SIGSEGV, (r.returncode, r.stdout, r.stderr)
        assert "TypeError: cannot modify read-only memory" in r.stdout
        assert "writing" in r.stdout and "survived" not in r.stdout
        assert shm.buf[0] == 11                # the data is unchanged


def test_child_sees_library_errors_as_exceptions(name):
    r = run_python(textwrap.dedent("""
        import sys, ipcshm
        try:
            ipcshm.SharedMemory(sys.argv[1])
        except FileNotFoundError as e:
            print(e.errno, e.strerror)
        """), name)
    assert r.stdout.strip() == '2 shm_open("/%s"): No such file or directory' % name


def test_permission_error_for_another_user(name):
    import os
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as nobody")
    with ipcshm.SharedMemory(name, create=True, size=64, perms=0o600) as shm:
        code = textwrap.dedent("""
            import sys, ipcshm
            for ro in (False, True):
                try:
                    ipcshm.SharedMemory(sys.argv[1], readonly=ro)
                except PermissionError as e:
                    print(e.errno, e.strerror)
            """)
        r = run_python(code, name, user=65534, group=65534)
        msg = 'shm_open("/%s"): Permission denied' % name
        assert r.stdout.splitlines() == ["13 " + msg, "13 " + msg]
        shm.chmod(0o604)                   # others may read: a read-only attach works
        r = run_python(code + "print(bytes(ipcshm.SharedMemory(sys.argv[1], "
                       "readonly=True).buf[:2]))\n", name, user=65534, group=65534)
        assert r.stdout.splitlines() == ["13 " + msg, "b'\\x00\\x00'"]
