//! Semaphores (libipcshm 1.2) through the safe API, in real processes: units
//! posted by re-executed children, a waiter there woken by a post here,
//! counts at their limits, read-only mappings, places.

mod common;

use common::*;
use ipcshm::{ReadOnly, Semaphore, Shm};
use std::io::ErrorKind;
use std::time::{Duration, Instant};

const EOVERFLOW: i32 = 75;

#[test]
fn semaphores_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Semaphore<'static>>();
    assert_send_sync::<Semaphore<'static, ReadOnly>>();
}

#[test]
fn units_posted_in_other_processes_add_up() {
    if let Some((role, id)) = child_role() {
        let shm = Shm::attach(&id).unwrap();
        let sem = Semaphore::new(&shm, 64).unwrap();
        let n: u32 = role.parse().unwrap();
        for _ in 0..n {
            sem.post().unwrap();
        }
        return;
    }
    let id = unique("sem-add");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let sem = Semaphore::new(&shm, 64).unwrap();
    sem.init(0).unwrap();
    for n in ["1", "2", "3"] {
        let out = run(child("units_posted_in_other_processes_add_up", n, &id)).unwrap();
        expect_success(n, &out);
    }
    assert_eq!(sem.value().unwrap(), 6);
    for _ in 0..6 {
        assert!(sem.try_wait().unwrap());
    }
    assert!(!sem.try_wait().unwrap());
}

#[test]
fn a_waiter_in_another_process_takes_a_unit_posted_here() {
    if let Some((_, id)) = child_role() {
        let shm = Shm::attach(&id).unwrap();
        let sem = Semaphore::new(&shm, 0).unwrap();
        say("WAITING");
        sem.wait().unwrap();
        say(&format!("TOOK {}", sem.value().unwrap()));
        return;
    }
    let id = unique("sem-wait");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let sem = Semaphore::new(&shm, 0).unwrap();
    sem.init(0).unwrap();
    let mut child = LineChild::spawn(
        "a_waiter_in_another_process_takes_a_unit_posted_here",
        "taker",
        &id,
    );
    child.expect("WAITING");
    wait_until_sleeping(child.pid(), child.pid());
    sem.post().unwrap();
    assert_eq!(child.expect("TOOK"), "TOOK 0");
    assert!(child.wait().success());
}

#[test]
fn counts_timeouts_and_places() {
    let shm = Shm::create("memfd:sem-limits", 4096).unwrap();
    let sem = Semaphore::new(&shm, 8).unwrap();
    sem.init(u32::MAX - 1).unwrap();
    sem.post().unwrap();
    let err = sem.post().unwrap_err();
    assert_eq!(ipcshm::errno(&err), Some(EOVERFLOW), "{}", err);
    assert_eq!(sem.value().unwrap(), u32::MAX);
    sem.init(0).unwrap();
    let start = Instant::now();
    assert!(!sem.wait_timeout(Some(Duration::from_millis(50))).unwrap());
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(!sem.try_wait().unwrap());
    for bad in [12usize, 4096 - 8] {
        let err = Semaphore::new(&shm, bad).unwrap_err();
        assert_error(&err, ErrorKind::InvalidInput, EINVAL, "ipcshm::Semaphore");
    }
    let zeros = Semaphore::new(&shm, 256).unwrap();
    assert_eq!(ipcshm::errno(&zeros.value().unwrap_err()), Some(EINVAL));
    assert_eq!(ipcshm::errno(&zeros.post().unwrap_err()), Some(EINVAL));
}

#[test]
fn read_only_mappings_read_the_count() {
    let id = unique("sem-ro");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    Semaphore::new(&shm, 0).unwrap().init(5).unwrap();
    let ro = Shm::attach_readonly(&id).unwrap();
    let sem: Semaphore<ReadOnly> = Semaphore::new(&ro, 0).unwrap();
    assert_eq!(sem.value().unwrap(), 5);
}
