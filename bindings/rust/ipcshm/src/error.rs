//! Errors: the library's errno and message as `std::io::Error`, and the helpers
//! that turn a negative return value into one.

use crate::sys;
use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::os::raw::c_int;

pub(crate) const EINVAL: i32 = 22;
pub(crate) const ERANGE: i32 = 34;
pub(crate) const EBADMSG: i32 = 74;
pub(crate) const EMSGSIZE: i32 = 90;

/// A failure reported by libipcshm: the errno value and the library's message,
/// which names the call and the object (`shm_open("/x"): Permission denied`).
///
/// The API returns [`std::io::Error`], built from this type with
/// `io::Error::new(kind, Error)`. The tradeoff: `io::Error::from_raw_os_error`
/// would keep [`io::Error::raw_os_error`] but lose the message, and the message is
/// what tells *which* object and which call failed. So the `io::Error` carries
///
/// - the [`io::ErrorKind`] that std derives from the errno (`ENOENT` →
///   `NotFound`, `EEXIST` → `AlreadyExists`, `EACCES`/`EPERM` →
///   `PermissionDenied`, `EINVAL` → `InvalidInput`, ...);
/// - this `Error` as its inner error, so `Display` shows the message and
///   [`Error::from_io`] or [`errno`] give the errno back;
///
/// and `raw_os_error()` of that `io::Error` is `None`: use [`errno`] instead,
/// which also answers for errors built by std from an errno.
///
/// ```
/// # let id = format!("/ipcshm-doc-missing-{}", std::process::id());
/// let err = ipcshm::Shm::attach(&id).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert_eq!(ipcshm::errno(&err), Some(2)); // ENOENT
/// assert!(err.to_string().contains(&id));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    message: String,
    message_len: Option<usize>,
}

impl Error {
    /// An error with this (positive) errno value and message.
    pub fn new(errno: i32, message: impl Into<String>) -> Error {
        Error {
            errno: errno.saturating_abs(),
            message: message.into(),
            message_len: None,
        }
    }

    /// For `EMSGSIZE` from a channel's [`Receiver`](crate::Receiver): the
    /// length of the message that did not fit the buffer, which stays in the
    /// channel (receive it again with a buffer that long). `None` otherwise.
    ///
    /// ```
    /// let mut rx = ipcshm::ChannelOptions::new(64, 4).create_receiver("memfd:doc")?;
    /// let mut tx = ipcshm::Sender::from_fd(rx.object_fd()?)?;
    /// tx.send(b"twelve bytes")?;
    /// let err = rx.recv(&mut [0u8; 4]).unwrap_err();
    /// let needed = ipcshm::Error::from_io(&err).and_then(|e| e.message_len());
    /// assert_eq!(needed, Some(12));
    /// let mut buf = vec![0u8; 12];
    /// assert_eq!(rx.recv(&mut buf)?, 12);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn message_len(&self) -> Option<usize> {
        self.message_len
    }

    pub(crate) fn with_message_len(mut self, len: usize) -> Error {
        self.message_len = Some(len);
        self
    }

    /// The errno value (positive: `ENOENT` is 2).
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The library's message for this failure.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The [`io::ErrorKind`] of the errno, as std maps it; `EBADMSG` (a
    /// corrupt array header, an array of another element type, a message that
    /// is not from [`Shm::send`](crate::Shm::send), a channel overwritten by
    /// another process) is [`io::ErrorKind::InvalidData`], and `EMSGSIZE` (a
    /// message longer than a channel's slots, or than the buffer given to
    /// receive it) is [`io::ErrorKind::InvalidInput`]: std leaves both
    /// uncategorized.
    pub fn kind(&self) -> io::ErrorKind {
        if self.errno == EBADMSG {
            return io::ErrorKind::InvalidData;
        }
        if self.errno == EMSGSIZE {
            return io::ErrorKind::InvalidInput;
        }
        io::Error::from_raw_os_error(self.errno).kind()
    }

    /// The `Error` inside an `io::Error` that this crate returned, if it is one.
    pub fn from_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
    }

    /// The message of the last failure on this thread, for `errno`.
    pub(crate) fn last(errno: i32) -> Error {
        // SAFETY: never NULL; valid until the next failing call on this thread.
        let text = unsafe { CStr::from_ptr(sys::ipcshm_last_error()) };
        let mut message = text.to_string_lossy().into_owned();
        if message.is_empty() {
            message = strerror(errno);
        }
        Error::new(errno, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (os error {})", self.message, self.errno)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        io::Error::new(err.kind(), err)
    }
}

/// The errno value of an `io::Error`: of the [`Error`] inside one that this
/// crate returned, else its `raw_os_error()`.
pub fn errno(err: &io::Error) -> Option<i32> {
    Error::from_io(err)
        .map(|e| e.errno())
        .or_else(|| err.raw_os_error())
}

pub(crate) fn strerror(errno: i32) -> String {
    // SAFETY: never NULL, a static string.
    unsafe { CStr::from_ptr(sys::ipcshm_strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

/// A negative return value into an error carrying the library's message.
pub(crate) fn check(rc: c_int) -> io::Result<c_int> {
    if rc >= 0 {
        Ok(rc)
    } else {
        Err(Error::last(-rc).into())
    }
}

pub(crate) fn c_id(id: &str) -> io::Result<CString> {
    CString::new(id)
        .map_err(|_| Error::new(EINVAL, format!("id {:?} contains a NUL byte", id)).into())
}
