//! libipcshm 1.1: typed arrays in the "WA-1" layout of
//! InterProcessCommunication.jl, read in a child, of every element type, by
//! copy (TypedArray) and as slices, and hostile headers.

mod common;

use common::*;
use ipcshm::{Complex, Element, ElementType, Shm, ShmOptions};
use std::io::ErrorKind;

#[test]
fn array_3x2_f64_read_in_a_child() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "array");
        let shm = Shm::attach_readonly(&id).unwrap();
        let a = shm.typed_array::<f64>().unwrap();
        assert_eq!(a.dims(), &[3, 2]);
        assert_eq!(a.to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(a.get(&[2, 0]), Some(3.0));
        assert_eq!(a.get(&[0, 1]), Some(4.0), "column-major");
        assert_eq!(a.get(&[3, 0]), None);
        assert_eq!(a.get(&[0]), None, "one index per dimension");
        assert_eq!((a.get_flat(5), a.get_flat(6)), (Some(6.0), None));
        let h = shm.array_header().unwrap();
        assert_eq!(
            (h.etype, h.dims.clone(), h.offset, h.len()),
            (ElementType::Float64, vec![3, 2], 64, 6)
        );
        let err = shm.typed_array::<f32>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
        assert_eq!(ipcshm::errno(&err), Some(EBADMSG));
        assert!(err.to_string().contains(&id), "{}", err);
        println!("child {}: read the 3x2 array", std::process::id());
        return;
    }
    let id = unique("array");
    let _cleanup = Cleanup(id.clone());
    let mut shm = Shm::create_array::<f64>(&id, &[3, 2]).unwrap();
    {
        // SAFETY: no other mapping of the object exists until the child
        // starts, after this block.
        let mut a = unsafe { shm.array_mut::<f64>() }.unwrap();
        assert_eq!(a.dims(), &[3, 2]);
        assert_eq!(a.as_slice(), &[0.0; 6], "a new array is zeros");
        a.as_mut_slice()
            .copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 9.0]);
        *a.get_mut(&[2, 1]).unwrap() = 6.0;
    }
    // The "WA-1" header, byte for byte as InterProcessCommunication.jl has it.
    let bytes = &bytes(&shm);
    assert_eq!(u32::from_ne_bytes(read_ne(bytes, 0)), 0x5741_2D31);
    assert_eq!(
        u32::from_ne_bytes(read_ne(bytes, 0)),
        ipcshm::sys::WA1_MAGIC
    );
    assert_eq!(u16::from_ne_bytes(read_ne(bytes, 4)), 10, "IPCSHM_FLOAT64");
    assert_eq!(u16::from_ne_bytes(read_ne(bytes, 6)), 2, "ndims");
    assert_eq!(i64::from_ne_bytes(read_ne(bytes, 8)), 64, "offset");
    assert_eq!(i64::from_ne_bytes(read_ne(bytes, 16)), 3);
    assert_eq!(i64::from_ne_bytes(read_ne(bytes, 24)), 2);
    assert_eq!(f64::from_ne_bytes(read_ne(bytes, 64 + 5 * 8)), 6.0);
    assert!(shm.len() >= 64 + 6 * 8);

    let out = run(child("array_3x2_f64_read_in_a_child", "array", &id)).unwrap();
    expect_success("array", &out);
}

fn roundtrip<T: Element + PartialEq + std::fmt::Debug>(value: T) {
    let shm = Shm::create_array::<T>("memfd:ipcshm-rs-etype", &[2, 1, 3]).unwrap();
    let h = shm.array_header().unwrap();
    assert_eq!(h.etype, T::ETYPE);
    assert_eq!(
        h.etype.code() as u16,
        u16::from_ne_bytes(read_ne(&bytes(&shm), 4))
    );
    assert_eq!(h.dims, vec![2, 1, 3]);
    assert_eq!(h.offset, 64, "round_up(16 + 8 * 3, 64)");
    let a = shm.typed_array::<T>().unwrap();
    a.set_flat(5, value).unwrap();
    assert_eq!(a.len(), 6);
    assert_eq!(a.get(&[1, 0, 2]), Some(value));
    // The bytes are the value's, in place: at offset + 5 elements.
    let size = std::mem::size_of::<T>();
    let mut raw = vec![0u8; size];
    shm.read_at(64 + 5 * size, &mut raw).unwrap();
    // SAFETY: `value` is a plain value of `size` bytes without padding.
    let want = unsafe { std::slice::from_raw_parts(&value as *const T as *const u8, size) };
    assert_eq!(raw, want);
    // A copy out and a copy back in.
    let mut all = a.to_vec();
    assert_eq!(all.len(), 6);
    all[0] = value;
    a.copy_from_slice(&all).unwrap();
    assert_eq!(a.get_flat(0), Some(value));
    // SAFETY: nothing else maps this memfd object.
    let slice = unsafe { shm.array::<T>() }.unwrap();
    assert_eq!((slice[0], slice[5]), (value, value));
}

#[test]
fn arrays_of_every_element_type() {
    roundtrip::<i8>(-5);
    roundtrip::<u8>(250);
    roundtrip::<i16>(-30_000);
    roundtrip::<u16>(60_000);
    roundtrip::<i32>(-2_000_000_000);
    roundtrip::<u32>(4_000_000_000);
    roundtrip::<i64>(-1 << 60);
    roundtrip::<u64>(1 << 63);
    roundtrip::<f32>(1.5);
    roundtrip::<f64>(-2.25);
    roundtrip::<Complex<f32>>(Complex::new(1.0, -1.0));
    roundtrip::<Complex<f64>>(Complex::new(0.5, 2.0));
    roundtrip::<[f32; 2]>([3.0, 4.0]);
    roundtrip::<[f64; 2]>([5.0, 6.0]);

    // [f32; 2] and Complex<f32> are the same element type.
    let shm = Shm::create_array::<Complex<f32>>("memfd:ipcshm-rs-c", &[2]).unwrap();
    let c = shm.typed_array::<Complex<f32>>().unwrap();
    c.set(&[1], Complex::new(7.0, 8.0)).unwrap();
    assert_eq!(
        shm.typed_array::<[f32; 2]>().unwrap().get(&[1]),
        Some([7.0, 8.0])
    );
    assert_eq!(
        shm.typed_array::<Complex<f64>>().unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}

#[test]
fn typed_arrays_by_copy_refuse_what_is_not_theirs() {
    let shm = Shm::create_array::<u16>("memfd:ipcshm-rs-typed", &[3, 4]).unwrap();
    let a = shm.typed_array::<u16>().unwrap();
    assert_eq!((a.len(), a.is_empty(), a.dims()), (12, false, &[3, 4][..]));
    a.fill(7);
    assert_eq!(a.to_vec(), vec![7; 12]);
    a.set(&[2, 3], 9).unwrap();
    assert_eq!((a.get(&[2, 3]), a.get_flat(11)), (Some(9), Some(9)));
    for bad in [&[3, 0][..], &[0, 4], &[0], &[0, 0, 0]] {
        let err = a.set(bad, 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{:?}: {}", bad, err);
        assert_eq!(a.get(bad), None);
    }
    assert_eq!(
        a.set_flat(12, 1).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(a.get_flat(12), None);
    let err = a.copy_from_slice(&[1; 11]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    assert_eq!(
        a.to_vec(),
        [vec![7; 11], vec![9]].concat(),
        "nothing written"
    );
    let mut out = [0u16; 12];
    a.copy_to_slice(&mut out).unwrap();
    assert_eq!(out[11], 9);
    assert!(a.copy_to_slice(&mut [0u16; 13]).is_err());
    // The elements are the object's, seen by another mapping at once.
    let other = Shm::from_fd_readonly(shm.fd().unwrap()).unwrap();
    let o = other.typed_array::<u16>().unwrap();
    a.set(&[1, 0], 500).unwrap();
    assert_eq!(o.get(&[1, 0]), Some(500));
    assert!(format!("{:?}", o).contains("UInt16"));
}

#[test]
fn array_errors() {
    // Wrong element type: InvalidData, naming both types.
    let shm = Shm::create_array::<i16>("memfd:ipcshm-rs-i16", &[5]).unwrap();
    let err = shm.typed_array::<u16>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
    assert!(
        err.to_string().contains("Int16") && err.to_string().contains("UInt16"),
        "{}",
        err
    );
    assert_eq!(shm.typed_array::<i16>().unwrap().len(), 5);

    // Not an array: the library's header check refuses it.
    let id = unique("notarray");
    let _cleanup = Cleanup(id.clone());
    let plain = Shm::create(&id, 4096).unwrap();
    let err = plain.typed_array::<u8>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
    assert_eq!(ipcshm::errno(&err), Some(EBADMSG));
    assert_eq!(
        plain.array_header().unwrap_err().kind(),
        ErrorKind::InvalidData
    );

    // A dimension may be 0; no dimensions at all is refused.
    let empty = Shm::create_array::<u32>("memfd:ipcshm-rs-empty", &[0, 4]).unwrap();
    let a = empty.typed_array::<u32>().unwrap();
    assert!(a.is_empty());
    assert_eq!(a.dims(), &[0, 4]);
    let err = Shm::create_array::<u32>("memfd:ipcshm-rs-nodims", &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);

    // open_or_create: the same type and dimensions attach; others are refused.
    let id = unique("arrooc");
    let _cleanup = Cleanup(id.clone());
    let opts = ShmOptions::new().perms(0o640);
    let (first, created) = opts.open_or_create_array::<i64>(&id, &[4, 4]).unwrap();
    assert!(created);
    first
        .typed_array::<i64>()
        .unwrap()
        .set(&[3, 3], 42)
        .unwrap();
    let (second, created) = opts.open_or_create_array::<i64>(&id, &[4, 4]).unwrap();
    assert!(!created);
    assert_eq!(
        second.typed_array::<i64>().unwrap().get_flat(15).unwrap(),
        42
    );
    let err = opts.open_or_create_array::<i64>(&id, &[4, 5]).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);
    let err = opts.open_or_create_array::<u64>(&id, &[4, 4]).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);
    let err = Shm::create_array::<i64>(&id, &[4, 4]).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);

    // A header written by hand, as IPC.jl's WrappedArray writes it: readable.
    let id = unique("handmade");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let write_header = |shm: &Shm, etype: u16, dims: &[i64], offset: i64| {
        shm.write_at(0, &0x5741_2D31u32.to_ne_bytes()).unwrap();
        shm.write_at(4, &etype.to_ne_bytes()).unwrap();
        shm.write_at(6, &(dims.len() as u16).to_ne_bytes()).unwrap();
        shm.write_at(8, &offset.to_ne_bytes()).unwrap();
        for (i, d) in dims.iter().enumerate() {
            shm.write_at(16 + 8 * i, &d.to_ne_bytes()).unwrap();
        }
    };
    write_header(&shm, 9, &[10], 64);
    for i in 0..10 {
        let v = i as f32 * 0.5;
        shm.write_at(64 + 4 * i, &v.to_ne_bytes()).unwrap();
    }
    let a = shm.typed_array::<f32>().unwrap();
    assert_eq!((a.dims(), a.get(&[9])), (&[10][..], Some(4.5)));
    drop(a);
    // Hostile headers: InvalidData, never a read past the mapping.
    for (etype, dims, offset, what) in [
        (9u16, vec![1i64 << 40], 64i64, "too many elements"),
        (9, vec![-1], 64, "negative dimension"),
        (9, vec![10], 4000, "offset near the end"),
        (9, vec![10], 8, "offset inside the header"),
        (13, vec![10], 64, "unknown element type"),
        (9, vec![], 64, "no dimension"),
        (
            10,
            vec![1 << 31, 1 << 31, 1 << 31],
            64,
            "overflowing product",
        ),
    ] {
        write_header(&shm, etype, &dims, offset);
        let err = shm.typed_array::<f32>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{}: {}", what, err);
        assert_eq!(
            shm.array_header().unwrap_err().kind(),
            ErrorKind::InvalidData,
            "{}",
            what
        );
    }

    // A dimension of 0 makes the array empty whatever the others are: the
    // library counts 0 elements before multiplying, so [2^62, 4, 0] is a valid
    // empty array even though 2^62 * 4 alone overflows.
    write_header(&shm, 10, &[1 << 62, 4, 0], 64);
    let h = shm.array_header().unwrap();
    assert_eq!(h.dims, vec![1usize << 62, 4, 0]);
    assert_eq!((h.len(), h.is_empty()), (0, true));
    let a = shm.typed_array::<f64>().unwrap();
    assert_eq!((a.len(), a.dims()), (0, &[1usize << 62, 4, 0][..]));
    drop(a);
    write_header(&shm, 10, &[0, i64::MAX, i64::MAX], 64);
    assert_eq!(shm.array_header().unwrap().len(), 0);
    assert!(shm.typed_array::<f64>().unwrap().is_empty());

    // Many dimensions: the header is read again with room for all of them.
    let dims = [1usize; 20];
    let many = Shm::create_array::<u8>("memfd:ipcshm-rs-many", &dims).unwrap();
    assert_eq!(many.typed_array::<u8>().unwrap().dims(), &dims[..]);
}
