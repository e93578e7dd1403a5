//! Checks the declarations of src/lib.rs against include/ipcshm.h so the two
//! cannot drift:
//! - the function names of the header and of the `extern "C"` block are the same;
//! - a C program compiled with the system's C compiler assigns every function to a
//!   pointer of the type the Rust declaration implies
//!   (`-Werror=incompatible-pointer-types`), and prints the constants, the size of
//!   `ipcshm_info_t` and the offsets of its fields, which must equal Rust's;
//! - the layout of `ipcshm_info_t` also equals hand-computed offsets (this part
//!   needs neither the header nor a C compiler).
//!
//! The header is `IPCSHM_INCLUDE_DIR/ipcshm.h`, else `../../../include/ipcshm.h`
//! from this crate (the source tree). Without a header or a C compiler (`CC`, else
//! `cc`) the C checks are skipped with a message, never silently passed.

use ipcshm_sys::*;
use std::collections::BTreeSet;
use std::mem::{align_of, size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;

const LIB_RS: &str = include_str!("../src/lib.rs");

/// (field name, offset in Rust). offset_of! needs Rust 1.77: use addr_of!.
fn rust_offsets() -> Vec<(&'static str, usize)> {
    let u = MaybeUninit::<ipcshm_info_t>::uninit();
    let base = u.as_ptr();
    macro_rules! off {
        ($f:ident) => {
            (stringify!($f), unsafe {
                (std::ptr::addr_of!((*base).$f) as *const u8).offset_from(base as *const u8)
                    as usize
            })
        };
    }
    vec![
        off!(struct_size),
        off!(kind),
        off!(size),
        off!(nattch),
        off!(atime),
        off!(dtime),
        off!(ctime),
        off!(mode),
        off!(uid),
        off!(gid),
        off!(cuid),
        off!(cgid),
        off!(cpid),
        off!(lpid),
        off!(key),
        off!(shmid),
        off!(flags),
    ]
}

/// The constants of the header, with the values of this crate.
fn rust_constants() -> Vec<(&'static str, i64)> {
    vec![
        ("IPCSHM_VERSION_MAJOR", IPCSHM_VERSION_MAJOR as i64),
        ("IPCSHM_VERSION_MINOR", IPCSHM_VERSION_MINOR as i64),
        ("IPCSHM_VERSION_PATCH", IPCSHM_VERSION_PATCH as i64),
        ("IPCSHM_VERSION", IPCSHM_VERSION as i64),
        ("IPCSHM_READONLY", IPCSHM_READONLY as i64),
        ("IPCSHM_PERSISTENT", IPCSHM_PERSISTENT as i64),
        ("IPCSHM_OPEN_OR_CREATE", IPCSHM_OPEN_OR_CREATE as i64),
        ("IPCSHM_PREFAULT", IPCSHM_PREFAULT as i64),
        ("IPCSHM_HUGEPAGES", IPCSHM_HUGEPAGES as i64),
        ("IPCSHM_LOCKED", IPCSHM_LOCKED as i64),
        ("IPCSHM_RESERVE", IPCSHM_RESERVE as i64),
        ("IPCSHM_UNSEALED", IPCSHM_UNSEALED as i64),
        ("IPCSHM_KIND_POSIX", IPCSHM_KIND_POSIX as i64),
        ("IPCSHM_KIND_SYSV", IPCSHM_KIND_SYSV as i64),
        ("IPCSHM_KIND_MEMFD", IPCSHM_KIND_MEMFD as i64),
        ("IPCSHM_INT8", IPCSHM_INT8 as i64),
        ("IPCSHM_UINT8", IPCSHM_UINT8 as i64),
        ("IPCSHM_INT16", IPCSHM_INT16 as i64),
        ("IPCSHM_UINT16", IPCSHM_UINT16 as i64),
        ("IPCSHM_INT32", IPCSHM_INT32 as i64),
        ("IPCSHM_UINT32", IPCSHM_UINT32 as i64),
        ("IPCSHM_INT64", IPCSHM_INT64 as i64),
        ("IPCSHM_UINT64", IPCSHM_UINT64 as i64),
        ("IPCSHM_FLOAT32", IPCSHM_FLOAT32 as i64),
        ("IPCSHM_FLOAT64", IPCSHM_FLOAT64 as i64),
        ("IPCSHM_COMPLEX64", IPCSHM_COMPLEX64 as i64),
        ("IPCSHM_COMPLEX128", IPCSHM_COMPLEX128 as i64),
        ("IPCSHM_EVENT_SIZE", IPCSHM_EVENT_SIZE as i64),
        ("IPCSHM_SEM_SIZE", IPCSHM_SEM_SIZE as i64),
        ("IPCSHM_MUTEX_SIZE", IPCSHM_MUTEX_SIZE as i64),
    ]
}

#[test]
fn info_layout_matches_hand_computed_offsets() {
    // C layout of the header's struct: 4+4, then 8-byte fields from offset 8,
    // then 4-byte fields from 48; 88 bytes, no padding (17 fields).
    let expected: &[(&str, usize)] = &[
        ("struct_size", 0),
        ("kind", 4),
        ("size", 8),
        ("nattch", 16),
        ("atime", 24),
        ("dtime", 32),
        ("ctime", 40),
        ("mode", 48),
        ("uid", 52),
        ("gid", 56),
        ("cuid", 60),
        ("cgid", 64),
        ("cpid", 68),
        ("lpid", 72),
        ("key", 76),
        ("shmid", 80),
        ("flags", 84),
    ];
    assert_eq!(size_of::<ipcshm_info_t>(), 88);
    assert_eq!(align_of::<ipcshm_info_t>(), 8);
    assert_eq!(rust_offsets(), expected.to_vec());
    assert_eq!(ipcshm_info_t::new().struct_size, 88);
}

/// The names of the `pub const IPCSHM_...` items of src/lib.rs.
fn rust_constant_names() -> BTreeSet<String> {
    LIB_RS
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .filter(|n| n.starts_with("IPCSHM_"))
        .collect()
}

#[test]
fn constant_table_covers_the_crate() {
    let table: BTreeSet<String> = rust_constants().iter().map(|c| c.0.to_string()).collect();
    assert_eq!(table, rust_constant_names());
}

/// One `pub fn` of the extern block: name, C-ish return type, argument types.
#[derive(Debug)]
struct Decl {
    name: String,
    args: Vec<String>,
    ret: Option<String>,
}

fn rust_decls() -> Vec<Decl> {
    let start = LIB_RS.find("extern \"C\" {").expect("extern block") + "extern \"C\" {".len();
    let end = start + LIB_RS[start..].find("\n}").expect("end of extern block");
    let mut decls = Vec::new();
    for item in LIB_RS[start..end].split(';') {
        let item = item.split_whitespace().collect::<Vec<_>>().join(" ");
        if item.is_empty() {
            continue;
        }
        let rest = item
            .strip_prefix("pub fn ")
            .unwrap_or_else(|| panic!("unexpected item in the extern block: {}", item));
        let open = rest.find('(').unwrap();
        let close = rest.rfind(')').unwrap();
        let name = rest[..open].trim().to_string();
        let args = rest[open + 1..close]
            .split(',')
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(|a| a.split_once(':').expect("name: type").1.trim().to_string())
            .collect();
        let ret = rest[close + 1..]
            .trim()
            .strip_prefix("->")
            .map(|r| r.trim().to_string());
        decls.push(Decl { name, args, ret });
    }
    decls
}

/// The C spelling of a Rust type of the extern block.
fn c_type(rust: &str) -> String {
    let rust = rust.trim();
    if let Some(inner) = rust.strip_prefix("*const ") {
        return format!("{} const *", c_type(inner));
    }
    if let Some(inner) = rust.strip_prefix("*mut ") {
        return format!("{} *", c_type(inner));
    }
    match rust {
        "c_char" => "char",
        "c_int" => "int",
        "c_void" => "void",
        "u64" => "uint64_t",
        "u32" => "uint32_t",
        "i32" => "int32_t",
        "i64" => "int64_t",
        "ipcshm_t" => "ipcshm_t",
        "ipcshm_info_t" => "ipcshm_info_t",
        other => panic!("no C spelling for the Rust type {}", other),
    }
    .to_string()
}

fn header_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("IPCSHM_INCLUDE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../include"),
    };
    let path = dir.join("ipcshm.h");
    if path.is_file() {
        Some(path)
    } else {
        None
    }
}

/// The functions the header exports: the identifier before '(' on each line that
/// starts with IPCSHM_EXPORT.
fn header_functions(header: &str) -> BTreeSet<String> {
    header
        .lines()
        .filter_map(|l| l.strip_prefix("IPCSHM_EXPORT "))
        .map(|l| {
            let head = &l[..l.find('(').expect("prototype with '(' on its first line")];
            head.rsplit(|c: char| c.is_whitespace() || c == '*')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The header without its comments (`/* */` and `//`).
fn strip_comments(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut rest = header;
    while let Some(pos) = rest.find("/*") {
        out.push_str(&rest[..pos]);
        match rest[pos + 2..].find("*/") {
            Some(end) => rest = &rest[pos + 2 + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|l| match l.find("//") {
            Some(pos) => &l[..pos],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The enumerators and version macros the header defines: every enumerator of
/// every `enum { ... }` (with or without `= value`: the element types count on
/// from `IPCSHM_INT8 = 1`), and the `IPCSHM_VERSION*` macros.
fn header_constants(header: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let src = strip_comments(header);
    for line in src.lines() {
        if let Some(rest) = line.trim().strip_prefix("#define IPCSHM_VERSION") {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            names.insert(format!("IPCSHM_VERSION{}", &rest[..len]));
        }
    }
    let mut rest = src.as_str();
    while let Some(pos) = rest.find("enum") {
        let after = &rest[pos + 4..];
        let is_word = !rest[..pos]
            .chars()
            .last()
            .map_or(false, |c| c.is_ascii_alphanumeric() || c == '_')
            && after.trim_start().starts_with('{');
        if !is_word {
            rest = after;
            continue;
        }
        let open = after.find('{').unwrap();
        let close = open + after[open..].find('}').expect("end of enum");
        for item in after[open + 1..close].split(',') {
            let name = item.split('=').next().unwrap().trim();
            if !name.is_empty() {
                names.insert(name.to_string());
            }
        }
        rest = &after[close..];
    }
    names
}

/// The values of the enumerators, as a C compiler sees them, are checked by
/// `c_compiler_agrees_on_types_constants_and_layout`; this checks the parser
/// itself on the form of the element-type enum.
#[test]
fn enum_parser_counts_implicit_values() {
    let names = header_constants(
        "/* enum { IPCSHM_NOT = 1 } */\nenum {\n  IPCSHM_A = 1, IPCSHM_B, // c\n  IPCSHM_C\n};\n",
    );
    let expected: BTreeSet<String> = ["IPCSHM_A", "IPCSHM_B", "IPCSHM_C"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn function_names_match_the_header() {
    let path = match header_path() {
        Some(p) => p,
        None => {
            eprintln!("SKIP: ipcshm.h not found (set IPCSHM_INCLUDE_DIR)");
            return;
        }
    };
    let header = std::fs::read_to_string(&path).unwrap();
    let c: BTreeSet<String> = header_functions(&header);
    let rust: BTreeSet<String> = rust_decls().into_iter().map(|d| d.name).collect();
    assert!(
        c.len() >= 29,
        "parsed too few functions from {:?}: {:?}",
        path,
        c
    );
    assert_eq!(
        c, rust,
        "functions of {:?} (left) vs src/lib.rs (right)",
        path
    );
    let consts = header_constants(&header);
    let ours: BTreeSet<String> = rust_constants().iter().map(|c| c.0.to_string()).collect();
    assert_eq!(
        consts, ours,
        "constants of {:?} (left) vs src/lib.rs (right)",
        path
    );
}

#[test]
fn c_compiler_agrees_on_types_constants_and_layout() {
    let path = match header_path() {
        Some(p) => p,
        None => {
            eprintln!("SKIP: ipcshm.h not found (set IPCSHM_INCLUDE_DIR)");
            return;
        }
    };
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n#include \"ipcshm.h\"\n\n",
    );
    // Type checks only: compiled with -fsyntax-only, not linked.
    c.push_str("#ifdef CHECK_TYPES\n");
    for d in rust_decls() {
        let ret = d
            .ret
            .as_deref()
            .map(c_type)
            .unwrap_or_else(|| "void".to_string());
        let args = if d.args.is_empty() {
            "void".to_string()
        } else {
            d.args
                .iter()
                .map(|a| c_type(a))
                .collect::<Vec<_>>()
                .join(", ")
        };
        c.push_str(&format!(
            "static {} (*const check_{})({}) __attribute__((unused)) = {};\n",
            ret, d.name, args, d.name
        ));
    }
    c.push_str("#endif\n\nint main(void) {\n");
    c.push_str("  printf(\"sizeof %zu\\n\", sizeof(ipcshm_info_t));\n");
    c.push_str("  printf(\"alignof %zu\\n\", _Alignof(ipcshm_info_t));\n");
    for (field, _) in rust_offsets() {
        c.push_str(&format!(
            "  printf(\"offset {f} %zu\\n\", offsetof(ipcshm_info_t, {f}));\n",
            f = field
        ));
    }
    for (name, _) in rust_constants() {
        c.push_str(&format!(
            "  printf(\"const {n} %lld\\n\", (long long)({n}));\n",
            n = name
        ));
    }
    c.push_str("  return 0;\n}\n");

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ipcshm-sys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("check.c");
    let exe = dir.join("check");
    std::fs::write(&src, &c).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let compile = |extra: &[&str]| {
        Command::new(&cc)
            .args([
                "-std=c11",
                "-Wall",
                "-Werror=incompatible-pointer-types",
                "-Werror=implicit-function-declaration",
                "-Werror=int-conversion",
            ])
            .args(extra)
            .arg("-I")
            .arg(path.parent().unwrap())
            .arg(&src)
            .output()
    };
    for (what, extra) in [
        ("types", vec!["-fsyntax-only", "-DCHECK_TYPES"]),
        ("program", vec!["-o", exe.to_str().unwrap()]),
    ] {
        let out = match compile(&extra) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("SKIP: no C compiler ({}: {})", cc, e);
                return;
            }
        };
        assert!(
            out.status.success(),
            "the C side disagrees with src/lib.rs ({}, {}):\n{}\n--- {}:\n{}",
            cc,
            what,
            String::from_utf8_lossy(&out.stderr),
            src.display(),
            c
        );
    }
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    let out = String::from_utf8(run.stdout).unwrap();
    let mut expected = format!(
        "sizeof {}\nalignof {}\n",
        size_of::<ipcshm_info_t>(),
        align_of::<ipcshm_info_t>()
    );
    for (f, off) in rust_offsets() {
        expected.push_str(&format!("offset {} {}\n", f, off));
    }
    for (n, v) in rust_constants() {
        expected.push_str(&format!("const {} {}\n", n, v));
    }
    assert_eq!(out, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
