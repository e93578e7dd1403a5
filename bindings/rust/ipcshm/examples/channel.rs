//! A channel between two processes with ipcshm: a producer sends frames to a
//! consumer (this program run again) through a memfd channel, which the
//! consumer gets as its standard input. Half of the frames are copied in
//! (`send`), half written in place (`reserve`, then `commit_written`); the
//! consumer reads each in place (`peek`) and releases it when its guard
//! drops. When the producer closes its end, the consumer receives what is
//! left, then `BrokenPipe`: the end of the stream.
//!
//! A frame is its number n (8 bytes, little-endian), then `frame_len(n) - 8`
//! bytes of `n as u8`, where `frame_len(n)` is 8 + a pseudo-random 0..1015
//! drawn from n (splitmix64): the frames of `examples/frames.c` (C) and
//! `bindings/python/examples/frames.py`, so this consumer also receives from
//! those senders.
//!
//! usage: channel [COUNT]     the producer; it starts the consumer itself
//!        channel consume     the consumer
use ipcshm::{ChannelOptions, Receiver};
use std::io::{self, ErrorKind, Write};
use std::process::{exit, Command, Stdio};
use std::sync::atomic::Ordering;

const SLOT_SIZE: usize = 1024;
const SLOTS: usize = 64;

fn frame_len(n: u64) -> usize {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15); // splitmix64
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    8 + ((z ^ (z >> 31)) % 1016) as usize
}

fn produce(count: u64) -> io::Result<i32> {
    let mut tx = ChannelOptions::new(SLOT_SIZE, SLOTS).create_sender("memfd:frames")?;
    // The consumer opens the receiving end from the descriptor it inherits.
    let mut consumer = Command::new(std::env::current_exe()?)
        .arg("consume")
        .stdin(Stdio::from(tx.object_fd()?))
        .spawn()?;
    let mut bytes = 0;
    let mut buf = vec![0u8; SLOT_SIZE];
    for n in 0..count {
        let len = frame_len(n);
        if n % 2 == 0 {
            // Copied in: the frame is built in a buffer of ours.
            buf[..8].copy_from_slice(&n.to_le_bytes());
            buf[8..len].fill(n as u8);
            tx.send(&buf[..len])?;
        } else {
            // Written in place, in the slot the consumer will read.
            let mut slot = tx.reserve()?;
            slot.write_all(&n.to_le_bytes())?;
            for b in &slot.as_atomic_u8()[8..len] {
                b.store(n as u8, Ordering::Relaxed);
            }
            slot.set_len(len)?; // the atomic view does not count what it writes
            slot.commit_written()?;
        }
        bytes += len as u64;
    }
    tx.close()?; // the consumer gets BrokenPipe once it has every frame
    let status = consumer.wait()?;
    println!("rust producer: sent {} frames, {} bytes", count, bytes);
    Ok(if status.success() { 0 } else { 1 })
}

fn consume() -> io::Result<i32> {
    let mut rx = Receiver::from_fd(io::stdin())?;
    let (mut frames, mut bytes) = (0u64, 0u64);
    loop {
        let msg = match rx.peek() {
            Ok(msg) => msg,
            Err(e) if e.kind() == ErrorKind::BrokenPipe => break, // the end
            Err(e) => return Err(e),
        };
        let mut head = [0u8; 8];
        msg.read_at(0, &mut head)?;
        let n = u64::from_le_bytes(head);
        let body = &msg.as_atomic_u8()[8..];
        let intact = n == frames
            && msg.len() == frame_len(n)
            && body.iter().all(|b| b.load(Ordering::Relaxed) == n as u8);
        if !intact {
            eprintln!("rust consumer: frame {} is wrong", frames);
            return Ok(1);
        }
        frames += 1;
        bytes += msg.len() as u64;
        // `msg` drops here: its slot goes back to the producer.
    }
    println!("rust consumer: received {} frames, {} bytes", frames, bytes);
    Ok(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("consume") => consume(),
        Some(n) => match n.parse() {
            Ok(count) => produce(count),
            Err(_) => {
                eprintln!("usage: channel [COUNT] | channel consume");
                exit(2);
            }
        },
        None => produce(10_000),
    };
    match result {
        Ok(code) => exit(code),
        Err(e) => {
            eprintln!("channel: {}", e);
            exit(1);
        }
    }
}
