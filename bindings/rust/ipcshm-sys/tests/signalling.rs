//! The 1.2 signalling calls (events, semaphores, mutexes, wait and wake) through the raw declarations.

mod common;

use common::*;
use ipcshm_sys::*;
use std::ptr;

/// The 1.2 signalling calls through the raw declarations: NULL and misaligned
/// pointers, memory that holds no primitive, and each primitive once, in an
/// 8-aligned private buffer (between the threads of one process any memory
/// does).
#[test]
fn signalling_raw() {
    const EAGAIN: i32 = 11;
    const EOVERFLOW: i32 = 75;
    const ETIMEDOUT: i32 = 110;
    let mut mem = vec![0u64; 4 * IPCSHM_EVENT_SIZE as usize / 8];
    let base = mem.as_mut_ptr() as *mut u8;
    unsafe {
        let (ev, sem, m) = (
            base as *mut c_void,
            base.add(64) as *mut c_void,
            base.add(128) as *mut c_void,
        );
        let mut seq = 7u64;
        let mut value = 7u32;
        for rc in [
            ipcshm_event_init(ptr::null_mut()),
            ipcshm_event_notify(base.add(4) as *mut c_void),
            ipcshm_event_sequence(ptr::null(), &mut seq),
            ipcshm_event_wait(ptr::null_mut(), &mut seq, 0),
            ipcshm_event_fd(base.add(1) as *mut c_void),
            ipcshm_sem_init(ptr::null_mut(), 0),
            ipcshm_sem_post(base.add(4) as *mut c_void),
            ipcshm_sem_wait(ptr::null_mut(), 0),
            ipcshm_sem_value(ptr::null(), &mut value),
            ipcshm_mutex_init(base.add(4) as *mut c_void),
            ipcshm_mutex_lock(ptr::null_mut(), 0),
            ipcshm_mutex_consistent(ptr::null_mut()),
            ipcshm_mutex_unlock(ptr::null_mut()),
            ipcshm_wait(ptr::null(), 0, 0),
            ipcshm_wait(base.add(2) as *const u32, 0, 0),
            ipcshm_wake(ptr::null_mut(), 1),
        ] {
            assert_eq!(rc, -EINVAL, "{}", last_error());
        }
        // Zeros: no primitive was ever initialised there.
        assert_eq!(ipcshm_event_sequence(ev, &mut seq), -EINVAL);
        assert_eq!(ipcshm_sem_value(sem, &mut value), -EINVAL);
        assert_eq!(ipcshm_mutex_lock(m, 0), -EINVAL);
        assert_eq!((seq, value), (7, 7), "out-parameters touched on failure");

        assert_eq!(ipcshm_event_init(ev), 0);
        assert_eq!(ipcshm_event_wait(ev, &mut seq, 0), 0); // 7 != 0: at once
        assert_eq!(seq, 0);
        assert_eq!(ipcshm_event_wait(ev, &mut seq, 0), -EAGAIN);
        assert_eq!(ipcshm_event_wait(ev, &mut seq, 1_000_000), -ETIMEDOUT);
        assert_eq!(ipcshm_event_notify(ev), 0);
        assert_eq!(ipcshm_event_sequence(ev, &mut seq), 0);
        assert_eq!(seq, 1);
        // Another kind's memory is not an event.
        assert_eq!(ipcshm_sem_value(ev, &mut value), -EINVAL);

        assert_eq!(ipcshm_sem_init(sem, u32::MAX), 0);
        assert_eq!(ipcshm_sem_post(sem), -EOVERFLOW);
        assert_eq!(ipcshm_sem_init(sem, 1), 0);
        assert_eq!(ipcshm_sem_wait(sem, 0), 0);
        assert_eq!(ipcshm_sem_wait(sem, 0), -EAGAIN);
        assert_eq!(ipcshm_sem_value(sem, &mut value), 0);
        assert_eq!(value, 0);

        assert_eq!(ipcshm_mutex_init(m), 0);
        assert_eq!(ipcshm_mutex_unlock(m), -1 /* EPERM */);
        assert_eq!(ipcshm_mutex_lock(m, -1), 0);
        assert_eq!(ipcshm_mutex_lock(m, 0), -35 /* EDEADLK */);
        assert_eq!(ipcshm_mutex_consistent(m), -EINVAL);
        assert_eq!(ipcshm_mutex_unlock(m), 0);

        // wait/wake on a plain word: the value differs, so no sleep.
        let word = base.add(192) as *mut u32;
        assert_eq!(ipcshm_wait(word, 1, -1), 0);
        assert_eq!(ipcshm_wait(word, 0, 0), -EAGAIN);
        assert_eq!(ipcshm_wake(word, u32::MAX), 0);
    }
    drop(mem);
}
