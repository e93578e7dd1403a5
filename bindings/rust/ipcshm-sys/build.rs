//! Finds libipcshm for the linker.
//!
//! 1. `IPCSHM_LIB_DIR`, if set and not empty: the directory that holds
//!    `libipcshm.so` (for example a meson build's `src/` directory). The
//!    directory is also written into the run path (`-Wl,-rpath,DIR`) of this
//!    package's test binaries, and passed on to dependents as
//!    `DEP_IPCSHM_LIB_DIR`, so that their tests and examples run without
//!    `LD_LIBRARY_PATH` (the `ipcshm` crate does so).
//! 2. Otherwise `pkg-config --libs-only-L ipcshm`, if pkg-config finds the
//!    package (an installed copy in a non-standard prefix, via PKG_CONFIG_PATH).
//! 3. Otherwise nothing: the linker and the loader search their default
//!    directories (an installed copy in /usr or /usr/local).
//!
//! Written for Rust 1.63 (Debian 12): the `cargo:` (single colon) syntax.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=IPCSHM_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_SYSROOT_DIR");

    let explicit = env::var("IPCSHM_LIB_DIR").ok().filter(|d| !d.is_empty());
    let dirs: Vec<String> = match explicit {
        Some(ref dir) => vec![dir.clone()],
        None => pkg_config_lib_dirs(),
    };

    for dir in &dirs {
        println!("cargo:rustc-link-search=native={}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=ipcshm");

    if let Some(dir) = explicit {
        // rustc-link-arg applies to this package's own binaries only (its tests);
        // dependents read DEP_IPCSHM_LIB_DIR and add the run path themselves.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
        println!("cargo:lib_dir={}", dir);
    }
}

/// The `-L` directories of `pkg-config --libs-only-L ipcshm`, or none when
/// pkg-config is missing or does not know the package.
fn pkg_config_lib_dirs() -> Vec<String> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = match Command::new(pkg_config)
        .args(["--libs-only-L", "ipcshm"])
        .output()
    {
        Ok(out) if out.status.success() => out,
        _ => return Vec::new(),
    };
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|arg| arg.strip_prefix("-L"))
        .filter(|dir| !dir.is_empty())
        .map(|dir| dir.to_string())
        .collect()
}
