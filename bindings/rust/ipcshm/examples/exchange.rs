//! The Rust side of the cross-language exchange: attaches by id, checks the
//! pattern, leaves its mark in the given slot; attaches the typed array, checks
//! it and sets a[slot, 1] = 100 + slot.   usage: exchange ID SLOT ARRAY_ID
use ipcshm::Shm;
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: exchange ID SLOT ARRAY_ID");
        exit(2);
    }
    let slot: usize = args[2].parse().expect("SLOT is a number");
    let shm = match Shm::attach(&args[1]) {
        Ok(shm) => shm,
        Err(e) => {
            eprintln!("rust: {}", e);
            exit(1);
        }
    };
    let bytes = shm.read_vec(0, 384).unwrap_or_else(|e| {
        eprintln!("rust: {}: {}", args[1], e);
        exit(1)
    });
    for (i, &b) in bytes[..256].iter().enumerate() {
        if b != ((i * 7 + 3) & 0xff) as u8 {
            eprintln!("rust: the pattern differs at byte {}", i);
            exit(3);
        }
    }
    let greeting = &bytes[256..384];
    let end = greeting
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(greeting.len());
    eprintln!(
        "rust:   attached {}, pattern ok, greeting {:?}",
        args[1],
        String::from_utf8_lossy(&greeting[..end])
    );
    let mark = format!("rust pid {} was here\0", std::process::id());
    let at = 1024 + 64 * slot;
    if let Err(e) = shm.write_at(at, mark.as_bytes()) {
        eprintln!("rust: {}: {}", args[1], e);
        exit(1);
    }

    if let Err(e) = array_round(&args[3], slot) {
        eprintln!("rust: {}: {}", args[3], e);
        exit(4);
    }
}

/// The typed array: f64, dims [3, 2] (column-major); a[i, j] == 10i + j, except
/// the marks of the slots before ours (a[s, 1] == 100 + s); then ours.
fn array_round(id: &str, slot: usize) -> Result<(), String> {
    let arr = Shm::attach(id).map_err(|e| e.to_string())?;
    // The header is checked, and must say f64.
    let a = arr.typed_array::<f64>().map_err(|e| e.to_string())?;
    if a.dims() != &[3usize, 2][..] || slot >= 3 {
        return Err(format!(
            "dims {:?}, not [3, 2] with a row for slot {}",
            a.dims(),
            slot
        ));
    }
    let mut seen = String::new();
    let mut ok = true;
    for i in 0..3 {
        for j in 0..2 {
            let v = a.get(&[i, j]).unwrap();
            let want = if j == 1 && i < slot {
                100 + i
            } else {
                10 * i + j
            };
            ok &= v == want as f64;
            seen += &format!("{}{}", if j == 0 { "" } else { " " }, v);
        }
        if i < 2 {
            seen += "; ";
        }
    }
    if !ok {
        return Err(format!("holds [{}], not what C and the others wrote", seen));
    }
    a.set(&[slot, 1], (100 + slot) as f64)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "rust:   array {}, f64 {}x{} [{}] ok; set a[{},1] = {}",
        id,
        a.dims()[0],
        a.dims()[1],
        seen,
        slot,
        100 + slot
    );
    Ok(())
}
