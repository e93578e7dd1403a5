//! The Rust side of the cross-language exchange: attaches by id, checks the
//! pattern, leaves its mark in the given slot.   usage: exchange ID SLOT
use ipcshm::Shm;
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: exchange ID SLOT");
        exit(2);
    }
    let slot: usize = args[2].parse().expect("SLOT is a number");
    let mut shm = match Shm::attach(&args[1]) {
        Ok(shm) => shm,
        Err(e) => {
            eprintln!("rust: {}", e);
            exit(1);
        }
    };
    let bytes = shm.as_mut_slice();
    for i in 0..256 {
        if bytes[i] != ((i * 7 + 3) & 0xff) as u8 {
            eprintln!("rust: the pattern differs at byte {}", i);
            exit(3);
        }
    }
    let greeting = &bytes[256..384];
    let end = greeting.iter().position(|&b| b == 0).unwrap_or(greeting.len());
    eprintln!(
        "rust:   attached {}, pattern ok, greeting {:?}",
        args[1],
        String::from_utf8_lossy(&greeting[..end])
    );
    let mark = format!("rust pid {} was here\0", std::process::id());
    let at = 1024 + 64 * slot;
    bytes[at..at + mark.len()].copy_from_slice(mark.as_bytes());
}
