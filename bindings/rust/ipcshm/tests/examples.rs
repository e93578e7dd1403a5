//! examples/condition.rs, the condition-variable pattern (a Mutex and an
//! Event), and examples/channel.rs, frames through a channel, run as written:
//! their producer and consumer are two processes.
//! (`cargo test` builds the examples before it runs the tests.)

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join(name)
}

fn condition_objects() -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("condition-"))
        .collect()
}

#[test]
fn condition_example_hands_every_number_over() {
    let exe = example("condition");
    assert!(
        exe.is_file(),
        "{} was not built (a whole `cargo test` builds the examples)",
        exe.display()
    );
    let before = condition_objects();
    let mut cmd = Command::new(&exe);
    cmd.arg("500");
    let out = run(cmd).unwrap();
    expect_success("condition", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "consumer: received 500 numbers, sum 125250\nproducer: handed over 500 numbers\n"
    );
    let left: Vec<_> = condition_objects()
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    assert!(left.is_empty(), "left behind: {:?}", left);
}

#[test]
fn channel_example_hands_every_frame_over() {
    let exe = example("channel");
    assert!(
        exe.is_file(),
        "{} was not built (a whole `cargo test` builds the examples)",
        exe.display()
    );
    let mut cmd = Command::new(&exe);
    cmd.arg("3000");
    let out = run(cmd).unwrap();
    expect_success("channel", &out);
    // 3000 frames of the lengths of frame_len (the same in
    // bindings/python/examples/frames.py, which computed this sum).
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "rust consumer: received 3000 frames, 1540657 bytes\n\
         rust producer: sent 3000 frames, 1540657 bytes\n"
    );
}
