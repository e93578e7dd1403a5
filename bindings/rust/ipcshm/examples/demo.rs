//! Two processes share one object.
//!
//!     cargo run --example demo              # writer: creates, starts a reader, waits
//!     cargo run --example demo -- /ID       # reader: attaches /ID read-only, prints
//!
//! The writer creates a volatile POSIX object with a unique name, writes a
//! message, and runs this program again as the reader with the object's id. The
//! reader attaches read-only, prints the message and the object's info, and
//! writes nothing (it could not: `Shm<ReadOnly>` has no `write_at`). When both
//! have detached, the object is gone.

use ipcshm::{Shm, ShmOptions};
use std::io;
use std::process::Command;

fn main() -> io::Result<()> {
    match std::env::args().nth(1) {
        Some(id) => reader(&id),
        None => writer(),
    }
}

fn writer() -> io::Result<()> {
    let shm = ShmOptions::new()
        .perms(0o600)
        .create("/ipcshm-demo-XXXXXX", 4096)?;
    let message = format!("hello from process {}", std::process::id());
    shm.write_at(0, message.as_bytes())?;
    println!(
        "writer: created {} ({} bytes), wrote {:?}",
        shm.id(),
        shm.len(),
        message
    );

    // The reader runs after the write: it sees the whole message.
    let status = Command::new(std::env::current_exe()?)
        .arg(shm.id())
        .status()?;
    if !status.success() {
        return Err(io::Error::new(
            io::ErrorKind::Other,
            format!("reader: {}", status),
        ));
    }

    let id = shm.id().to_string();
    drop(shm); // the last user: a volatile object is destroyed now
    match ipcshm::info_of(&id) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => println!("writer: {} is gone", id),
        Err(e) => return Err(e),
        Ok(_) => println!("writer: {} still exists?", id),
    }
    Ok(())
}

fn reader(id: &str) -> io::Result<()> {
    let shm = Shm::attach_readonly(id)?;
    let bytes = shm.read_vec(0, shm.len())?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    println!(
        "reader: {} says {:?}",
        id,
        String::from_utf8_lossy(&bytes[..end])
    );
    let info = shm.info()?;
    println!(
        "reader: kind {:?}, {} bytes, mode {:o}, owner {}, persistent {}",
        info.kind, info.size, info.mode, info.uid, info.persistent
    );
    Ok(())
}
