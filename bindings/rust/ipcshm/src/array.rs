//! Typed arrays (libipcshm 1.1): the "WA-1" header of InterProcessCommunication.jl's
//! `WrappedArray`, element types, creating arrays and reading their header.
//! Their elements are read and written through `TypedArray` (typed_array.rs,
//! safe) or `ArrayView` / `ArrayViewMut` (array_view.rs, unsafe slices).

use crate::error::{c_id, check, Error, EBADMSG, EINVAL, ERANGE};
use crate::{sys, Access, ReadWrite, Shm, ShmOptions};
use std::io;

impl ShmOptions<ReadWrite> {
    /// Creates the object `id` holding a zeroed array of `T` with dimensions
    /// `dims` (column-major: the first dimension varies fastest, as in Julia;
    /// 1..=65535 dimensions, each may be 0), in the "WA-1" layout of
    /// InterProcessCommunication.jl's `WrappedArray`, so that Julia, C, Python
    /// and other Rust processes read it (libipcshm 1.1,
    /// `ipcshm_array_create`). Read and write the elements with
    /// [`Shm::typed_array`] (or, unsafely, as slices: [`Shm::array`] /
    /// [`Shm::array_mut`]). Permissions, lifetime and mapping flags as for
    /// [`create`](Self::create).
    ///
    /// Only read-write options have this method: the header has to be written.
    ///
    /// ```
    /// let shm = ipcshm::ShmOptions::new().create_array::<f64>("memfd:doc", &[3, 2])?;
    /// let a = shm.typed_array::<f64>()?;
    /// assert_eq!(a.dims(), &[3, 2]);
    /// a.set(&[2, 1], 6.0)?; // the last element, column-major
    /// assert_eq!(a.get_flat(5), Some(6.0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create_array<T: Element>(&self, id: &str, dims: &[usize]) -> io::Result<Shm> {
        self.create_array_with::<T>(id, dims, 0).map(|(shm, _)| shm)
    }

    /// Attaches the array `id` if it exists, belongs to the caller's user and
    /// has the same element type and dimensions (else `AlreadyExists`);
    /// otherwise creates it. The `bool` is `true` when it was created.
    pub fn open_or_create_array<T: Element>(
        &self,
        id: &str,
        dims: &[usize],
    ) -> io::Result<(Shm, bool)> {
        self.create_array_with::<T>(id, dims, sys::IPCSHM_OPEN_OR_CREATE)
    }

    fn create_array_with<T: Element>(
        &self,
        id: &str,
        dims: &[usize],
        extra: u32,
    ) -> io::Result<(Shm, bool)> {
        let cid = c_id(id)?;
        let bad = |what: String| -> io::Error { Error::new(EINVAL, what).into() };
        let cdims = dims
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|_| {
                bad(format!(
                    "array {:?}: a dimension of {:?} exceeds i64",
                    id, dims
                ))
            })?;
        let ndims = u32::try_from(dims.len())
            .map_err(|_| bad(format!("array {:?}: {} dimensions", id, dims.len())))?;
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a NUL-terminated id, `ndims` dimensions, a valid out-pointer.
        let rc = check(unsafe {
            sys::ipcshm_array_create(
                cid.as_ptr(),
                T::ETYPE.code(),
                ndims,
                cdims.as_ptr(),
                self.perms,
                self.flags | extra,
                &mut raw,
            )
        })?;
        // SAFETY: a fresh read-write handle, owned by nobody else.
        let shm = unsafe { Shm::from_raw(raw)? };
        Ok((shm, rc == 1))
    }
}

impl Shm<ReadWrite> {
    /// Creates the array `id` of `T` with the defaults; see
    /// [`ShmOptions::create_array`].
    pub fn create_array<T: Element>(id: &str, dims: &[usize]) -> io::Result<Shm> {
        ShmOptions::new().create_array::<T>(id, dims)
    }
}

impl<A: Access> Shm<A> {
    /// The array header of the object, whatever its element type (libipcshm
    /// 1.1, `ipcshm_array_header`), for objects whose type is not known in
    /// advance. Not an array, or a corrupt header: `InvalidData`.
    pub fn array_header(&self) -> io::Result<ArrayHeader> {
        let (etype, dims, offset) = self.read_array_header()?;
        Ok(ArrayHeader {
            etype,
            dims,
            offset,
        })
    }

    /// (element type, dimensions, offset) from one copy of the header: the
    /// offset comes from the same copy as the dimensions (a second read, such
    /// as `ipcshm_array_data`, could see a header rewritten meanwhile).
    fn read_array_header(&self) -> io::Result<(ElementType, Vec<usize>, usize)> {
        let mut cdims = vec![0i64; 8];
        let mut tries = 0;
        let (code, ndims, offset) = loop {
            let (mut code, mut ndims, mut offset) = (0u32, 0u32, 0u64);
            // SAFETY: our live handle; valid out-pointers; `cdims` has room for
            // the `maxdims` we give.
            let rc = unsafe {
                sys::ipcshm_array_header(
                    self.raw.as_ptr(),
                    &mut code,
                    &mut ndims,
                    cdims.as_mut_ptr(),
                    cdims.len() as u32,
                    &mut offset,
                )
            };
            tries += 1;
            // -ERANGE: more dimensions than room, and *ndims tells how many. (A
            // header rewritten meanwhile could ask again: a few tries only.)
            if rc == -ERANGE && ndims as usize > cdims.len() && tries < 4 {
                cdims.resize(ndims as usize, 0);
                continue;
            }
            check(rc)?;
            break (code, ndims as usize, offset);
        };
        let invalid = |what: String| -> io::Error {
            Error::new(EBADMSG, format!("array header of {:?}: {}", self.id, what)).into()
        };
        let etype = ElementType::from_code(code)
            .ok_or_else(|| invalid(format!("unknown element type {}", code)))?;
        if ndims == 0 || ndims > cdims.len() {
            return Err(invalid(format!("{} dimensions", ndims)));
        }
        let dims = cdims[..ndims]
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| invalid(format!("dimensions {:?}", &cdims[..ndims])))?;
        let offset = usize::try_from(offset).map_err(|_| invalid(format!("offset {}", offset)))?;
        Ok((etype, dims, offset))
    }

    /// The address and element count of the array of `T`, checked to lie in
    /// this mapping and to be aligned; and its dimensions.
    pub(crate) fn locate_array<T: Element>(&self) -> io::Result<(*mut u8, usize, Vec<usize>)> {
        let (etype, dims, offset) = self.read_array_header()?;
        let invalid = |what: String| -> io::Error {
            Error::new(EBADMSG, format!("array {:?}: {}", self.id, what)).into()
        };
        if etype != T::ETYPE {
            return Err(invalid(format!(
                "holds {:?} elements (code {}), not {:?} ({}, code {})",
                etype,
                etype.code(),
                T::ETYPE,
                std::any::type_name::<T>(),
                T::ETYPE.code()
            )));
        }
        let len = element_count(&dims)
            .ok_or_else(|| invalid(format!("dimensions {:?} overflow", dims)))?;
        len.checked_mul(std::mem::size_of::<T>())
            .and_then(|bytes| bytes.checked_add(offset))
            .filter(|&end| end <= self.len)
            .ok_or_else(|| {
                invalid(format!(
                    "{} elements at offset {} exceed the mapping's {} bytes",
                    len, offset, self.len
                ))
            })?;
        // offset + len * size <= self.len: within the mapping (an empty array
        // may start at its end).
        let data = self.ptr.as_ptr().wrapping_add(offset);
        if data as usize % std::mem::align_of::<T>() != 0 {
            return Err(invalid(format!(
                "offset {} is not aligned for {}",
                offset,
                std::any::type_name::<T>()
            )));
        }
        Ok((data, len, dims))
    }
}

/// The element type of an array, as the "WA-1" header codes it
/// (`IPCSHM_INT8` = 1 .. `IPCSHM_COMPLEX128` = 12; Julia's `Int8` ..
/// `ComplexF64`).
///
/// `#[non_exhaustive]`: a later version of the library may add element types
/// (and [`from_code`](Self::from_code) then knows them), so a `match` needs a
/// `_` arm:
///
/// ```
/// fn is_complex(t: ipcshm::ElementType) -> bool {
///     use ipcshm::ElementType::*;
///     match t {
///         Complex64 | Complex128 => true,
///         Int8 | UInt8 | Int16 | UInt16 | Int32 | UInt32 | Int64 | UInt64 => false,
///         Float32 | Float64 => false,
///         _ => false, // a type added later
///     }
/// }
/// assert!(is_complex(ipcshm::ElementType::Complex64));
/// ```
///
/// ```compile_fail,E0004
/// fn is_complex(t: ipcshm::ElementType) -> bool {
///     use ipcshm::ElementType::*;
///     match t {
///         Complex64 | Complex128 => true,
///         Int8 | UInt8 | Int16 | UInt16 | Int32 | UInt32 | Int64 | UInt64 => false,
///         Float32 | Float64 => false,
///     } // error[E0004]: non-exhaustive patterns: `_` not covered
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ElementType {
    /// `i8`, code 1.
    Int8,
    /// `u8`, code 2.
    UInt8,
    /// `i16`, code 3.
    Int16,
    /// `u16`, code 4.
    UInt16,
    /// `i32`, code 5.
    Int32,
    /// `u32`, code 6.
    UInt32,
    /// `i64`, code 7.
    Int64,
    /// `u64`, code 8.
    UInt64,
    /// `f32`, code 9.
    Float32,
    /// `f64`, code 10.
    Float64,
    /// Two `f32` (re, im), 8 bytes: [`Complex<f32>`] or `[f32; 2]`, code 11.
    Complex64,
    /// Two `f64` (re, im), 16 bytes: [`Complex<f64>`] or `[f64; 2]`, code 12.
    Complex128,
}

impl ElementType {
    const ALL: [ElementType; 12] = [
        ElementType::Int8,
        ElementType::UInt8,
        ElementType::Int16,
        ElementType::UInt16,
        ElementType::Int32,
        ElementType::UInt32,
        ElementType::Int64,
        ElementType::UInt64,
        ElementType::Float32,
        ElementType::Float64,
        ElementType::Complex64,
        ElementType::Complex128,
    ];

    /// The header's code (`sys::IPCSHM_INT8` ..).
    pub const fn code(self) -> u32 {
        match self {
            ElementType::Int8 => sys::IPCSHM_INT8,
            ElementType::UInt8 => sys::IPCSHM_UINT8,
            ElementType::Int16 => sys::IPCSHM_INT16,
            ElementType::UInt16 => sys::IPCSHM_UINT16,
            ElementType::Int32 => sys::IPCSHM_INT32,
            ElementType::UInt32 => sys::IPCSHM_UINT32,
            ElementType::Int64 => sys::IPCSHM_INT64,
            ElementType::UInt64 => sys::IPCSHM_UINT64,
            ElementType::Float32 => sys::IPCSHM_FLOAT32,
            ElementType::Float64 => sys::IPCSHM_FLOAT64,
            ElementType::Complex64 => sys::IPCSHM_COMPLEX64,
            ElementType::Complex128 => sys::IPCSHM_COMPLEX128,
        }
    }

    /// The type of a header code; `None` for a code this crate does not know.
    pub fn from_code(code: u32) -> Option<ElementType> {
        ElementType::ALL.iter().copied().find(|t| t.code() == code)
    }

    /// The size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            ElementType::Int8 | ElementType::UInt8 => 1,
            ElementType::Int16 | ElementType::UInt16 => 2,
            ElementType::Int32 | ElementType::UInt32 | ElementType::Float32 => 4,
            ElementType::Int64
            | ElementType::UInt64
            | ElementType::Float64
            | ElementType::Complex64 => 8,
            ElementType::Complex128 => 16,
        }
    }
}

/// A complex number as arrays store it: real part, then imaginary part
/// (`#[repr(C)]`, the layout of C's `float complex` / Julia's `ComplexF32` for
/// `Complex<f32>`, and of `double complex` / `ComplexF64` for `Complex<f64>`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex<T> {
    /// The real part.
    pub re: T,
    /// The imaginary part.
    pub im: T,
}

impl<T> Complex<T> {
    /// `re + im·i`.
    pub const fn new(re: T, im: T) -> Complex<T> {
        Complex { re, im }
    }
}

mod sealed_element {
    pub trait Sealed {}
}

/// A type that array elements can have: the integers `i8`..`u64`, `f32`,
/// `f64`, and [`Complex<f32>`] / [`Complex<f64>`] (or `[f32; 2]` / `[f64; 2]`).
/// Each maps to one [`ElementType`] code.
///
/// Sealed: every bit pattern must be a valid value, since the bytes come from
/// other processes, and the size and alignment must be those of the code; the
/// crate implements it for exactly those types.
pub trait Element: Copy + Send + Sync + 'static + sealed_element::Sealed {
    /// The element type of the header.
    const ETYPE: ElementType;
}

macro_rules! element {
    ($($t:ty => $e:ident),* $(,)?) => {$(
        impl sealed_element::Sealed for $t {}
        impl Element for $t {
            const ETYPE: ElementType = ElementType::$e;
        }
    )*};
}

element! {
    i8 => Int8, u8 => UInt8, i16 => Int16, u16 => UInt16,
    i32 => Int32, u32 => UInt32, i64 => Int64, u64 => UInt64,
    f32 => Float32, f64 => Float64,
    Complex<f32> => Complex64, Complex<f64> => Complex128,
    [f32; 2] => Complex64, [f64; 2] => Complex128,
}

/// The header of an array, whatever its element type ([`Shm::array_header`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArrayHeader {
    /// The element type.
    pub etype: ElementType,
    /// The dimensions, column-major (the first varies fastest).
    pub dims: Vec<usize>,
    /// Where the elements start, in bytes from the start of the object.
    pub offset: usize,
}

impl ArrayHeader {
    /// The number of elements (the product of the dimensions).
    ///
    /// Counted as the library counts: 0 if any dimension is 0 (so
    /// `[2^62, 4, 0]` is a valid empty array), else the product, which fits for
    /// every header the library accepted (the elements fit in the mapping).
    /// For dimensions changed by hand so that it overflows: `usize::MAX`.
    pub fn len(&self) -> usize {
        element_count(&self.dims).unwrap_or(usize::MAX)
    }

    /// Whether the array has no element (a dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The number of elements of an array of dimensions `dims`, as the library
/// counts it: 0 if any dimension is 0, whatever the others are; else their
/// product, or `None` if it overflows.
fn element_count(dims: &[usize]) -> Option<usize> {
    if dims.contains(&0) {
        return Some(0);
    }
    dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// The position in the elements of a column-major multi-index, if in bounds.
pub(crate) fn column_major(dims: &[usize], index: &[usize]) -> Option<usize> {
    if index.len() != dims.len() {
        return None;
    }
    let mut pos = 0usize;
    for (&i, &d) in index.iter().zip(dims).rev() {
        if i >= d {
            return None;
        }
        pos = pos * d + i;
    }
    Some(pos)
}

#[cfg(test)]
mod array_tests {
    use super::*;

    #[test]
    fn codes_sizes_and_layouts_agree() {
        for (i, t) in ElementType::ALL.iter().enumerate() {
            assert_eq!(t.code(), i as u32 + 1);
            assert_eq!(ElementType::from_code(t.code()), Some(*t));
        }
        assert_eq!(ElementType::from_code(0), None);
        assert_eq!(ElementType::from_code(13), None);
        fn size<T: Element>() {
            assert_eq!(std::mem::size_of::<T>(), T::ETYPE.size());
            assert!(
                std::mem::align_of::<T>() <= 64,
                "elements start at 64-byte offsets"
            );
        }
        size::<i8>();
        size::<u8>();
        size::<i16>();
        size::<u16>();
        size::<i32>();
        size::<u32>();
        size::<i64>();
        size::<u64>();
        size::<f32>();
        size::<f64>();
        size::<Complex<f32>>();
        size::<Complex<f64>>();
        size::<[f32; 2]>();
        size::<[f64; 2]>();
    }

    #[test]
    fn element_count_as_the_library_counts() {
        assert_eq!(element_count(&[3, 2]), Some(6));
        assert_eq!(element_count(&[1 << 62, 4, 0]), Some(0));
        assert_eq!(element_count(&[0, usize::MAX, usize::MAX]), Some(0));
        assert_eq!(element_count(&[usize::MAX, 2]), None);
        let h = ArrayHeader {
            etype: ElementType::UInt8,
            dims: vec![usize::MAX, 2],
            offset: 64,
        };
        assert_eq!(h.len(), usize::MAX);
        assert!(!h.is_empty());
    }

    #[test]
    fn column_major_indexing() {
        let dims = [3, 2, 4];
        assert_eq!(column_major(&dims, &[0, 0, 0]), Some(0));
        assert_eq!(column_major(&dims, &[1, 0, 0]), Some(1));
        assert_eq!(column_major(&dims, &[0, 1, 0]), Some(3));
        assert_eq!(column_major(&dims, &[0, 0, 1]), Some(6));
        assert_eq!(column_major(&dims, &[2, 1, 3]), Some(23));
        assert_eq!(column_major(&dims, &[3, 0, 0]), None);
        assert_eq!(column_major(&dims, &[0, 0]), None);
        assert_eq!(column_major(&[0], &[0]), None);
    }
}
