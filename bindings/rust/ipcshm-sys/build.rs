//! Finds libipcshm for the linker.
//!
//! 1. `IPCSHM_LIB_DIR`, if set and not empty: the directory that holds
//!    `libipcshm.so` (for example a meson build's `src/` directory). The
//!    directory is also written into the run path (`-Wl,-rpath,DIR`) of this
//!    package's test binaries, and passed on to dependents as
//!    `DEP_IPCSHM_LIB_DIR`, so that their tests and examples run without
//!    `LD_LIBRARY_PATH` (the `ipcshm` crate does so).
//! 2. Otherwise an installed copy, through `pkg-config --libs ipcshm` (the
//!    `pkg-config` program, or `$PKG_CONFIG`): Debian's libipcshm-dev, or
//!    `meson install` into any prefix, whose `lib/<triplet>/pkgconfig` is then
//!    on `PKG_CONFIG_PATH`. Programs built this way find the library at run time
//!    as C programs do (the loader's cache, or `LD_LIBRARY_PATH` for a private
//!    prefix).
//! 3. Otherwise the build stops, with a message that says what to install and
//!    which variables to set (not a bare linker error).
//!
//! Written for Rust 1.63 (Debian 12): the `cargo:` (single colon) syntax, std only.

use std::env;
use std::process::{self, Command};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "IPCSHM_LIB_DIR",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={}", var);
    }

    if let Some(dir) = env::var("IPCSHM_LIB_DIR").ok().filter(|d| !d.is_empty()) {
        println!("cargo:rustc-link-search=native={}", dir);
        println!("cargo:rustc-link-lib=dylib=ipcshm");
        // rustc-link-arg applies to this package's own binaries only (its tests);
        // dependents read DEP_IPCSHM_LIB_DIR and add the run path themselves.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
        println!("cargo:lib_dir={}", dir);
        return;
    }

    match pkg_config_libs() {
        Ok(args) => {
            let mut linked = false;
            for arg in &args {
                if let Some(dir) = arg.strip_prefix("-L") {
                    println!("cargo:rustc-link-search=native={}", dir);
                } else if let Some(lib) = arg.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib=dylib={}", lib);
                    linked |= lib == "ipcshm";
                }
            }
            if !linked {
                println!("cargo:rustc-link-lib=dylib=ipcshm");
            }
        }
        Err(why) => {
            eprintln!(
                "\nipcshm-sys: cannot find libipcshm: {}.\n\n\
                 Install it:\n\
                 \x20 - Debian: apt install libipcshm-dev (it brings pkg-config's ipcshm.pc);\n\
                 \x20 - from the source tree: meson setup build --prefix=PREFIX && meson install -C build,\n\
                 \x20   then set PKG_CONFIG_PATH=PREFIX/lib/x86_64-linux-gnu/pkgconfig (the multiarch\n\
                 \x20   libdir; run `meson configure build | grep libdir` to see it) and, at run time,\n\
                 \x20   LD_LIBRARY_PATH=PREFIX/lib/x86_64-linux-gnu unless PREFIX is /usr/local (ldconfig).\n\
                 Or set IPCSHM_LIB_DIR to a directory that holds libipcshm.so (a meson build's src/).\n\
                 PKG_CONFIG names the pkg-config program to run (default: pkg-config, Debian's pkgconf).\n",
                why
            );
            process::exit(1);
        }
    }
}

/// The words of `pkg-config --libs ipcshm`, or why there are none.
fn pkg_config_libs() -> Result<Vec<String>, String> {
    let pkg_config = env::var("PKG_CONFIG")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "pkg-config".to_string());
    let output = Command::new(&pkg_config)
        .args(["--libs", "ipcshm"])
        .output()
        .map_err(|e| {
            format!(
                "IPCSHM_LIB_DIR is not set, and `{}` cannot run ({})",
                pkg_config, e
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "IPCSHM_LIB_DIR is not set, and `{} --libs ipcshm` failed: {}",
            pkg_config,
            stderr.trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(|arg| arg.to_string())
        .collect())
}
