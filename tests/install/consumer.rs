//! A Rust program of a user: a new cargo project that depends on the `ipcshm`
//! crate and links an installed libipcshm found by ipcshm-sys through pkg-config
//! (tests/install/install_test.py builds it as src/main.rs).
//!
//!     consumer ID LIB   attaches ID (made by consumer.c), checks its pattern and
//!                       answers with the complement of every byte
//!
//! LIB is the library this program must have loaded: checked in /proc/self/maps.

use std::fs;
use std::path::Path;
use std::process::exit;

const SIZE: usize = 10000;

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(7) + 1) as u8
}

fn fail(msg: String) -> ! {
    eprintln!("consumer.rs: {}", msg);
    exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: consumer ID LIB");
        exit(2);
    }
    let want = fs::canonicalize(&args[2]).unwrap_or_else(|e| fail(format!("{}: {}", args[2], e)));
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_else(|e| fail(e.to_string()));
    let loaded: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.find('/').map(|at| &l[at..]))
        .filter(|p| p.contains("libipcshm"))
        .collect();
    if loaded.is_empty() {
        fail("no libipcshm in /proc/self/maps".to_string());
    }
    for path in &loaded {
        if fs::canonicalize(Path::new(path)).ok().as_ref() != Some(&want) {
            fail(format!("loaded {}, expected {}", path, want.display()));
        }
    }
    let shm = ipcshm::Shm::attach(&args[1]).unwrap_or_else(|e| fail(e.to_string()));
    if shm.len() != SIZE {
        fail(format!("size {}", shm.len()));
    }
    let mut bytes = shm
        .read_vec(0, SIZE)
        .unwrap_or_else(|e| fail(e.to_string()));
    for (i, b) in bytes.iter_mut().enumerate() {
        if *b != pattern(i) {
            fail(format!("byte {} is {}, expected {}", i, *b, pattern(i)));
        }
        *b = !pattern(i);
    }
    shm.write_at(0, &bytes)
        .unwrap_or_else(|e| fail(e.to_string()));
    println!("consumer.rs: checked {} and wrote the answer", args[1]);
}
