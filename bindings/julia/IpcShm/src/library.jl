# Finding and loading libipcshm when the module loads, and its errors.

# Every ccall names the library by this constant, its SONAME. `__init__` loads the
# library first (from ENV["IPCSHM_LIBRARY"] when set), and the dynamic loader
# then resolves this name to the library already loaded, because that is its
# SONAME. This is how Julia's JLL packages name libraries on glibc systems; it
# works on every Julia version and is decided at load time, not when the package
# is precompiled.
const libipcshm = "libipcshm.so.1"

# Set by __init__: the file that was loaded, and its handle.
libipcshm_path = ""
libipcshm_handle = C_NULL

# The oldest library version this module calls (signalling: 1.2).
const MIN_LIBRARY_VERSION = 0x010200

"""
    IpcShmError(errno, message)

A failure of libipcshm: `errno` (positive, as in `Libc.strerror(errno)`) and the
library's message, which names the call and the object, e.g.
`shm_open("/x"): Permission denied`.
"""
struct IpcShmError <: Exception
    errno::Int
    msg::String
end

Base.showerror(io::IO, e::IpcShmError) =
    print(io, "IpcShmError: ", e.msg, " (", Libc.strerror(e.errno), ")")

last_error() = unsafe_string(ccall((:ipcshm_last_error, libipcshm), Cstring, ()))

# Throws the library's last failure when rc < 0; returns rc otherwise.
check(rc::Integer) = rc < 0 ? throw(IpcShmError(-rc, last_error())) : Int(rc)

"""
    IpcShm.load_library(path)

loads libipcshm from `path` (a file name or the SONAME) and checks that ccall's
SONAME resolves to that same library, of a version this module can use. Called by
the module's `__init__` with `ENV["IPCSHM_LIBRARY"]`, or the SONAME when that is
unset or empty.
"""
function load_library(path::AbstractString)
    handle = try
        Libdl.dlopen(path, Libdl.RTLD_LAZY | Libdl.RTLD_GLOBAL)
    catch err
        reason = path == libipcshm ?
            "$libipcshm was not found by the dynamic loader: install libipcshm " *
            "(Debian: libipcshm1), or set ENV[\"IPCSHM_LIBRARY\"] to its path " *
            "before `using IpcShm`" :
            "ENV[\"IPCSHM_LIBRARY\"] = \"$path\" cannot be loaded"
        error("IpcShm: ", reason, " (", sprint(showerror, err), ")")
    end
    # ccall looks the library up by its SONAME: it must find the one just loaded.
    byname = Libdl.dlopen(libipcshm; throw_error=false)
    ours = symbol_address(handle, :ipcshm_version)
    if byname === nothing || ours == C_NULL || symbol_address(byname, :ipcshm_version) != ours
        error("IpcShm: \"$path\" is not what $libipcshm resolves to once it is ",
              "loaded (is its SONAME $libipcshm?); point ENV[\"IPCSHM_LIBRARY\"] ",
              "at a libipcshm.so.1 file")
    end
    version = ccall((:ipcshm_version, libipcshm), UInt32, ())
    if version < MIN_LIBRARY_VERSION
        error("IpcShm: \"$path\" is libipcshm ", version_number(version),
              "; this module needs ", version_number(MIN_LIBRARY_VERSION), " or newer")
    end
    global libipcshm_path = Libdl.dlpath(handle)
    global libipcshm_handle = handle
    return libipcshm_path
end

# The address of a symbol of a loaded library, or C_NULL.
function symbol_address(handle, name::Symbol)
    p = Libdl.dlsym(handle, name; throw_error=false)
    return p === nothing ? C_NULL : Ptr{Cvoid}(p)
end

version_number(v::Integer) = VersionNumber(v >> 16, (v >> 8) & 0xff, v & 0xff)

"""
    IpcShm.version() -> VersionNumber

the version of the loaded libipcshm.
"""
version() = version_number(ccall((:ipcshm_version, libipcshm), UInt32, ()))

"""
    IpcShm.page_size() -> Int

the size of a memory page in bytes (also `IPC.PAGE_SIZE`).
"""
page_size() = Int(ccall((:ipcshm_page_size, libipcshm), UInt64, ()))
