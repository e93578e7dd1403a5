//! The condition-variable pattern across processes with ipcshm: a `Mutex`
//! guards the shared state, an `Event` announces each change of it. A waiter
//! reads the event's sequence while it holds the mutex, unlocks, then waits for
//! the sequence to move on: a notify that comes in between is not lost.
//!
//! A producer hands numbers to a consumer, in another process (this program
//! run again), through a one-slot mailbox in a new volatile object:
//!
//! ```text
//! offset 0    Mutex
//! offset 64   Event
//! offset 128  full    (u32 word 32: 1 while the slot holds a number)
//! offset 136  number  (u64 word 17)
//! ```
//!
//! usage: condition [COUNT]       the producer; it starts the consumer itself
//!        condition consume ID    the consumer
use ipcshm::{Event, LockError, Mutex, MutexGuard, Shm};
use std::io;
use std::process::{exit, Command, Stdio};
use std::sync::atomic::Ordering;

const MUTEX: usize = 0;
const EVENT: usize = 64;
const FULL: usize = 128 / 4; // index of the u32 word
const NUMBER: usize = 136 / 8; // index of the u64 word

/// Takes the mutex. If the other process died holding it, the slot may be
/// half-written: empty it, mark the state repaired, and go on holding it.
fn lock<'a>(m: &Mutex<'a>, shm: &Shm) -> io::Result<MutexGuard<'a>> {
    match m.lock() {
        Ok(guard) => Ok(guard),
        Err(LockError::OwnerDead(dead)) => {
            shm.atomic_u32()[FULL].store(0, Ordering::Relaxed);
            dead.consistent()
        }
        Err(e) => Err(e.into()),
    }
}

/// Holding the mutex (`guard`), waits until the slot's flag is `full`; returns
/// the mutex held again.
fn wait_until<'a>(
    m: &Mutex<'a>,
    ev: &Event,
    shm: &Shm,
    mut guard: MutexGuard<'a>,
    full: u32,
) -> io::Result<MutexGuard<'a>> {
    while shm.atomic_u32()[FULL].load(Ordering::Relaxed) != full {
        let seen = ev.sequence()?; // under the mutex: before looking away
        drop(guard); // unlock
        ev.wait(seen)?; // returns once a notify came after `seen`
        guard = lock(m, shm)?;
    }
    Ok(guard)
}

fn put(m: &Mutex, ev: &Event, shm: &Shm, number: u64) -> io::Result<()> {
    let guard = wait_until(m, ev, shm, lock(m, shm)?, 0)?;
    shm.atomic_u64()[NUMBER].store(number, Ordering::Relaxed);
    shm.atomic_u32()[FULL].store(1, Ordering::Relaxed);
    guard.unlock()?;
    ev.notify() // after the change, outside the lock
}

fn produce(count: u64) -> io::Result<i32> {
    let shm = Shm::create("/condition-XXXXXX", 4096)?;
    let m = Mutex::new(&shm, MUTEX)?;
    m.init()?;
    let ev = Event::new(&shm, EVENT)?;
    ev.init()?;
    let consumer = Command::new(std::env::current_exe()?)
        .args(["consume", shm.id()])
        .stdout(Stdio::piped())
        .spawn()?;
    for number in 1..=count {
        put(&m, &ev, &shm, number)?;
    }
    put(&m, &ev, &shm, 0)?; // 0: no more
    let out = consumer.wait_with_output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!("producer: handed over {} numbers", count);
    Ok(out.status.code().unwrap_or(1))
}

fn consume(id: &str) -> io::Result<i32> {
    let shm = Shm::attach(id)?;
    let m = Mutex::new(&shm, MUTEX)?;
    let ev = Event::new(&shm, EVENT)?;
    let (mut total, mut received) = (0u64, 0u64);
    loop {
        let guard = wait_until(&m, &ev, &shm, lock(&m, &shm)?, 1)?;
        let number = shm.atomic_u64()[NUMBER].load(Ordering::Relaxed);
        shm.atomic_u32()[FULL].store(0, Ordering::Relaxed);
        guard.unlock()?;
        ev.notify()?;
        if number == 0 {
            break;
        }
        total += number;
        received += 1;
    }
    println!("consumer: received {} numbers, sum {}", received, total);
    Ok(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("consume") if args.len() == 3 => consume(&args[2]),
        None => produce(100),
        Some(n) => match n.parse() {
            Ok(count) => produce(count),
            Err(_) => {
                eprintln!("usage: condition [COUNT] | condition consume ID");
                exit(2)
            }
        },
    };
    match result {
        Ok(code) => exit(code),
        Err(e) => {
            eprintln!("condition: {}", e);
            exit(1)
        }
    }
}
