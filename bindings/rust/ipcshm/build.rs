//! ipcshm-sys finds libipcshm for the linker. When it was told where the library
//! is (`IPCSHM_LIB_DIR`), it passes the directory on as `DEP_IPCSHM_LIB_DIR`
//! (`links = "ipcshm"` metadata): write it into the run path of this package's
//! tests, examples and doctests too, so they run without LD_LIBRARY_PATH.
//! (A `cargo:rustc-link-arg` of ipcshm-sys reaches ipcshm-sys's own targets only.)

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_IPCSHM_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_IPCSHM_LIB_DIR") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
        }
    }
}
