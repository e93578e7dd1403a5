//! The 1.2 channel calls through the raw declarations: bad handles and arguments, then each call on real channels.

mod common;

use common::*;
use ipcshm_sys::*;
use std::ffi::CString;
use std::ptr;

/// The 1.2 channel calls through the raw declarations: NULL, forged and
/// closed handles, bad ids, roles and sizes, out-parameters left alone on
/// failure; then one memfd channel whose receiver opens it by descriptor,
/// with each call once (copy and zero-copy, -EMSGSIZE with the length, the
/// info struct), and POSIX names: -EBUSY for a second end, -EPIPE, gone
/// after the last close.
#[test]
fn channels_raw() {
    const EBUSY: i32 = 16;
    const EAGAIN: i32 = 11;
    const EPIPE: i32 = 32;
    const EMSGSIZE: i32 = 90;
    const EOPNOTSUPP: i32 = 95;
    let fake = 0x1000 as *mut ipcshm_channel_t;
    let id = unique("ch");
    let cid = CString::new(id.clone()).unwrap();
    let _cleanup = Cleanup(cid.clone());
    unsafe {
        let mut ch: *mut ipcshm_channel_t = ptr::null_mut();
        let mut len = 7u64;
        let mut slot: *mut c_void = ptr::null_mut();
        let mut msg: *const c_void = ptr::null();
        let mut h: *const ipcshm_t = ptr::null();
        let mut info = ipcshm_channel_info_t::new();
        let mut buf = [0u8; 64];
        for (what, rc, want) in [
            (
                "send NULL",
                ipcshm_channel_send(ptr::null_mut(), buf.as_ptr() as *const c_void, 1, 0),
                EINVAL,
            ),
            (
                "recv NULL",
                ipcshm_channel_recv(
                    ptr::null_mut(),
                    buf.as_mut_ptr() as *mut c_void,
                    64,
                    &mut len,
                    0,
                ),
                EINVAL,
            ),
            (
                "reserve NULL",
                ipcshm_channel_reserve(ptr::null_mut(), &mut slot, 0),
                EINVAL,
            ),
            (
                "commit NULL",
                ipcshm_channel_commit(ptr::null_mut(), 0),
                EINVAL,
            ),
            (
                "peek NULL",
                ipcshm_channel_peek(ptr::null_mut(), &mut msg, &mut len, 0),
                EINVAL,
            ),
            (
                "release NULL",
                ipcshm_channel_release(ptr::null_mut()),
                EINVAL,
            ),
            ("close NULL", ipcshm_channel_close(ptr::null_mut()), EINVAL),
            (
                "handle NULL",
                ipcshm_channel_handle(ptr::null(), &mut h),
                EINVAL,
            ),
            (
                "handle_info NULL",
                ipcshm_channel_handle_info(ptr::null(), &mut info),
                EINVAL,
            ),
            ("fd NULL", ipcshm_channel_fd(ptr::null_mut()), EINVAL),
            (
                "send forged",
                ipcshm_channel_send(fake, buf.as_ptr() as *const c_void, 1, 0),
                EBADF,
            ),
            (
                "recv forged",
                ipcshm_channel_recv(fake, buf.as_mut_ptr() as *mut c_void, 64, &mut len, 0),
                EBADF,
            ),
            ("close forged", ipcshm_channel_close(fake), EBADF),
            ("handle forged", ipcshm_channel_handle(fake, &mut h), EBADF),
            (
                "create NULL id",
                ipcshm_channel_create(ptr::null(), 64, 4, 0o600, 0, IPCSHM_SENDER, &mut ch),
                EINVAL,
            ),
            (
                "create NULL out",
                ipcshm_channel_create(
                    cid.as_ptr(),
                    64,
                    4,
                    0o600,
                    0,
                    IPCSHM_SENDER,
                    ptr::null_mut(),
                ),
                EINVAL,
            ),
            (
                "create role 0",
                ipcshm_channel_create(cid.as_ptr(), 64, 4, 0o600, 0, 0, &mut ch),
                EINVAL,
            ),
            (
                "create role 3",
                ipcshm_channel_create(cid.as_ptr(), 64, 4, 0o600, 0, 3, &mut ch),
                EINVAL,
            ),
            (
                "create 0 slots",
                ipcshm_channel_create(cid.as_ptr(), 64, 0, 0o600, 0, IPCSHM_SENDER, &mut ch),
                EINVAL,
            ),
            (
                "create 2^30+1 slots",
                ipcshm_channel_create(
                    cid.as_ptr(),
                    64,
                    (1 << 30) + 1,
                    0o600,
                    0,
                    IPCSHM_SENDER,
                    &mut ch,
                ),
                EINVAL,
            ),
            (
                "create slot size 0",
                ipcshm_channel_create(cid.as_ptr(), 0, 4, 0o600, 0, IPCSHM_SENDER, &mut ch),
                EINVAL,
            ),
            (
                "create read-only",
                ipcshm_channel_create(
                    cid.as_ptr(),
                    64,
                    4,
                    0o600,
                    IPCSHM_READONLY,
                    IPCSHM_SENDER,
                    &mut ch,
                ),
                EINVAL,
            ),
            (
                "open NULL id",
                ipcshm_channel_open(ptr::null(), IPCSHM_RECEIVER, &mut ch),
                EINVAL,
            ),
            (
                "open memfd id",
                ipcshm_channel_open(
                    b"memfd:x\0".as_ptr() as *const c_char,
                    IPCSHM_RECEIVER,
                    &mut ch,
                ),
                EINVAL,
            ),
            (
                "open missing",
                ipcshm_channel_open(cid.as_ptr(), IPCSHM_RECEIVER, &mut ch),
                ENOENT,
            ),
            (
                "open_fd -1",
                ipcshm_channel_open_fd(-1, IPCSHM_RECEIVER, &mut ch),
                EBADF,
            ),
            (
                "info missing",
                ipcshm_channel_info(cid.as_ptr(), &mut info),
                ENOENT,
            ),
            (
                "info NULL",
                ipcshm_channel_info(cid.as_ptr(), ptr::null_mut()),
                EINVAL,
            ),
        ] {
            assert_eq!(rc, -want, "{}: {}", what, last_error());
        }
        let sysv = CString::new("key:0x51c0ffee").unwrap();
        assert_eq!(
            ipcshm_channel_create(sysv.as_ptr(), 64, 4, 0o600, 0, IPCSHM_SENDER, &mut ch),
            -EOPNOTSUPP,
            "{}",
            last_error()
        );
        assert!(ch.is_null(), "out-parameter written on failure");
        assert_eq!(
            (len, slot, msg, h),
            (7, ptr::null_mut(), ptr::null(), ptr::null())
        );
        assert_eq!(info, ipcshm_channel_info_t::new());

        // A memfd channel; the receiver opens it by descriptor.
        let label = CString::new("memfd:sys-channel").unwrap();
        let mut tx: *mut ipcshm_channel_t = ptr::null_mut();
        let mut rx: *mut ipcshm_channel_t = ptr::null_mut();
        assert_eq!(
            ipcshm_channel_create(label.as_ptr(), 100, 2, 0o600, 0, IPCSHM_SENDER, &mut tx),
            1,
            "{}",
            last_error()
        );
        assert_eq!(ipcshm_channel_handle(tx, &mut h), 0);
        let fd = ipcshm_fd(h);
        assert!(fd >= 0, "{}", last_error());
        assert_eq!(ipcshm_channel_open_fd(fd, IPCSHM_SENDER, &mut rx), -EBUSY);
        assert_eq!(
            ipcshm_channel_open_fd(fd, IPCSHM_RECEIVER, &mut rx),
            0,
            "{}",
            last_error()
        );
        extern "C" {
            fn close(fd: c_int) -> c_int;
        }
        close(fd);
        assert_eq!(ipcshm_channel_handle_info(rx, &mut info), 0);
        assert_eq!(
            (
                info.kind,
                info.slot_size,
                info.slot_count,
                info.sender,
                info.receiver,
                info.queued
            ),
            (
                IPCSHM_KIND_MEMFD,
                100,
                2,
                IPCSHM_END_OPEN,
                IPCSHM_END_OPEN,
                0
            )
        );
        // Wrong ends and sizes.
        assert_eq!(
            ipcshm_channel_recv(tx, buf.as_mut_ptr() as *mut c_void, 64, &mut len, 0),
            -EBADF
        );
        assert_eq!(
            ipcshm_channel_send(rx, buf.as_ptr() as *const c_void, 1, 0),
            -EBADF
        );
        let big = [0u8; 101];
        assert_eq!(
            ipcshm_channel_send(tx, big.as_ptr() as *const c_void, 101, 0),
            -EMSGSIZE
        );
        assert_eq!(
            ipcshm_channel_commit(tx, 1),
            -EINVAL,
            "commit without a reserve"
        );
        assert_eq!(
            ipcshm_channel_release(rx),
            -EINVAL,
            "release without a peek"
        );
        assert_eq!(
            ipcshm_channel_recv(rx, buf.as_mut_ptr() as *mut c_void, 64, &mut len, 0),
            -EAGAIN
        );
        // Copy: 80 bytes into a 64-byte buffer is -EMSGSIZE with the length.
        let data: Vec<u8> = (0..80u8).collect();
        assert_eq!(
            ipcshm_channel_send(tx, data.as_ptr() as *const c_void, 80, 0),
            0
        );
        assert_eq!(
            ipcshm_channel_recv(rx, buf.as_mut_ptr() as *mut c_void, 64, &mut len, 0),
            -EMSGSIZE
        );
        assert_eq!(len, 80);
        let mut big_buf = [0u8; 100];
        assert_eq!(
            ipcshm_channel_recv(rx, big_buf.as_mut_ptr() as *mut c_void, 100, &mut len, 0),
            0
        );
        assert_eq!(&big_buf[..len as usize], &data[..]);
        // Zero-copy.
        assert_eq!(ipcshm_channel_reserve(tx, &mut slot, 0), 0);
        assert_eq!(slot as usize % 64, 0, "slots are 64-byte aligned");
        ptr::copy_nonoverlapping(data.as_ptr(), slot as *mut u8, 5);
        assert_eq!(
            ipcshm_channel_send(tx, data.as_ptr() as *const c_void, 1, 0),
            -EBUSY
        );
        assert_eq!(ipcshm_channel_commit(tx, 101), -EMSGSIZE);
        assert_eq!(ipcshm_channel_commit(tx, 5), 0);
        assert_eq!(ipcshm_channel_peek(rx, &mut msg, &mut len, 0), 0);
        assert_eq!(
            std::slice::from_raw_parts(msg as *const u8, len as usize),
            &data[..5]
        );
        assert_eq!(
            ipcshm_channel_recv(rx, buf.as_mut_ptr() as *mut c_void, 64, &mut len, 0),
            -EBUSY
        );
        assert_eq!(ipcshm_channel_release(rx), 0);
        assert_eq!(ipcshm_channel_handle_info(tx, &mut info), 0);
        assert_eq!((info.sent, info.received, info.queued), (2, 2, 0));
        // The sender closes: the receiver gets -EPIPE.
        assert_eq!(ipcshm_channel_close(tx), 0);
        assert_eq!(ipcshm_channel_close(tx), -EBADF, "closing twice");
        assert_eq!(
            ipcshm_channel_recv(rx, buf.as_mut_ptr() as *mut c_void, 64, &mut len, 0),
            -EPIPE
        );
        assert_eq!(ipcshm_channel_close(rx), 0);

        // A POSIX name: a second end of a role is -EBUSY; info by name; the
        // volatile channel goes with its last end.
        assert_eq!(
            ipcshm_channel_create(cid.as_ptr(), 16, 1, 0o600, 0, IPCSHM_RECEIVER, &mut rx),
            1,
            "{}",
            last_error()
        );
        assert_eq!(
            ipcshm_channel_open(cid.as_ptr(), IPCSHM_RECEIVER, &mut ch),
            -EBUSY
        );
        assert_eq!(
            ipcshm_channel_open(cid.as_ptr(), IPCSHM_SENDER, &mut tx),
            0,
            "{}",
            last_error()
        );
        let mut named = ipcshm_channel_info_t::new();
        assert_eq!(
            ipcshm_channel_info(cid.as_ptr(), &mut named),
            0,
            "{}",
            last_error()
        );
        assert_eq!(
            (
                named.kind,
                named.slot_size,
                named.slot_count,
                named.sender,
                named.receiver
            ),
            (IPCSHM_KIND_POSIX, 16, 1, IPCSHM_END_OPEN, IPCSHM_END_OPEN)
        );
        assert_eq!(ipcshm_channel_close(rx), 0);
        assert_eq!(
            ipcshm_channel_send(tx, buf.as_ptr() as *const c_void, 1, 0),
            -EPIPE
        );
        assert_eq!(ipcshm_channel_info(cid.as_ptr(), &mut named), 0);
        assert_eq!(named.receiver, IPCSHM_END_CLOSED);
        assert_eq!(ipcshm_channel_close(tx), 0);
        assert_eq!(
            ipcshm_channel_info(cid.as_ptr(), &mut named),
            -ENOENT,
            "volatile: gone"
        );
    }
}
