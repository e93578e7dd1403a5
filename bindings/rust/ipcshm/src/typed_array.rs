//! `TypedArray`: the safe way to the elements of a typed array. Elements are
//! copied out and in with atomic accesses (memory.rs), never borrowed, so other
//! mappings of the object may read and write them at the same time.

use crate::array::column_major;
use crate::error::{Error, EINVAL};
use crate::memory::{load, store};
use crate::{Access, Element, ReadWrite, Shm};
use std::fmt;
use std::io;
use std::mem::{size_of, MaybeUninit};

impl<A: Access> Shm<A> {
    /// The array of `T` in this object (libipcshm 1.1), for reading (and, on
    /// a read-write mapping, writing) its elements by copy: safe whatever
    /// other mappings of the object do meanwhile. Checked as
    /// [`array`](Self::array) checks (the header, `T`'s element type, the
    /// elements within the mapping): otherwise `InvalidData`.
    ///
    /// An element of up to 8 bytes is read and written in one atomic access
    /// (the complex types of 16 bytes in two), so it is never torn; a copy of
    /// several elements ([`to_vec`](TypedArray::to_vec),
    /// [`copy_from_slice`](TypedArray::copy_from_slice)) written
    /// concurrently may mix old and new elements.
    ///
    /// ```
    /// # let id = format!("/ipcshm-doc-typed-{}", std::process::id());
    /// let shm = ipcshm::Shm::create_array::<f64>(&id, &[3, 2])?;
    /// let a = shm.typed_array::<f64>()?;
    /// assert_eq!(a.dims(), &[3, 2]);
    /// a.set(&[2, 1], 6.0)?; // the last element: column-major, as in Julia
    /// a.set(&[0, 1], 4.0)?;
    /// let reader = ipcshm::Shm::attach_readonly(&id)?; // as another process would
    /// let b = reader.typed_array::<f64>()?;
    /// assert_eq!(b.get(&[2, 1]), Some(6.0));
    /// assert_eq!(b.to_vec(), [0.0, 0.0, 0.0, 4.0, 0.0, 6.0]);
    /// assert!(reader.typed_array::<i64>().is_err()); // the header says f64
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// The array borrows the `Shm`, so the mapping cannot move (by
    /// [`resize`](Shm::resize)) or go away while it lives:
    ///
    /// ```compile_fail,E0502
    /// let mut shm = ipcshm::Shm::create_array::<u8>("memfd:doc", &[4])?;
    /// let a = shm.typed_array::<u8>()?;
    /// shm.resize(8192)?; // error[E0502]: `shm` is borrowed by `a`
    /// a.get(&[0]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn typed_array<T: Element>(&self) -> io::Result<TypedArray<'_, T, A>> {
        let (data, len, dims) = self.locate_array::<T>()?;
        Ok(TypedArray {
            shm: self,
            data: data as *mut T,
            len,
            dims,
        })
    }
}

/// The elements of a typed array, read and written by copy
/// ([`Shm::typed_array`]): never a reference to shared memory, so it is safe
/// while other mappings, threads and processes use the same elements.
/// Dimensions are column-major (the first varies fastest, as in Julia).
///
/// `TypedArray<T, ReadOnly>` (from a `Shm<ReadOnly>`) only reads.
pub struct TypedArray<'a, T: Element, A: Access = ReadWrite> {
    shm: &'a Shm<A>,
    // `len` elements of T from here lie in the mapping of `shm`, aligned for T
    // (checked by locate_array); the borrow of `shm` keeps them mapped.
    data: *mut T,
    len: usize,
    dims: Vec<usize>,
}

// SAFETY: every access to the elements is atomic (memory.rs), so a
// TypedArray may be used from several threads, like the `Shm` it borrows.
unsafe impl<'a, T: Element, A: Access> Send for TypedArray<'a, T, A> {}
unsafe impl<'a, T: Element, A: Access> Sync for TypedArray<'a, T, A> {}

impl<'a, T: Element, A: Access> TypedArray<'a, T, A> {
    /// The dimensions, column-major (the first varies fastest).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The number of elements (0 if a dimension is 0).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A copy of the element at a multi-index `[i, j, ...]` (as many indices
    /// as dimensions, each in bounds), or `None`.
    pub fn get(&self, index: &[usize]) -> Option<T> {
        column_major(&self.dims, index).map(|pos| self.read(pos))
    }

    /// A copy of the element at position `pos` in memory order (column-major),
    /// or `None` past the end.
    pub fn get_flat(&self, pos: usize) -> Option<T> {
        if pos < self.len {
            Some(self.read(pos))
        } else {
            None
        }
    }

    /// A copy of every element, in memory order.
    pub fn to_vec(&self) -> Vec<T> {
        let mut out: Vec<T> = Vec::with_capacity(self.len);
        // SAFETY: the elements lie in the live mapping (see `data`); `out` has
        // room for `len` of them and is private memory. Every bit pattern is a
        // valid T (Element is sealed to such types), so all `len` are
        // initialised once copied.
        unsafe {
            load(
                self.data as *const u8,
                out.as_mut_ptr() as *mut u8,
                self.len * size_of::<T>(),
            );
            out.set_len(self.len);
        }
        out
    }

    /// Copies every element, in memory order, into `dst`, which must have
    /// exactly [`len`](Self::len) of them (else `InvalidInput`, nothing
    /// copied).
    pub fn copy_to_slice(&self, dst: &mut [T]) -> io::Result<()> {
        self.same_len(dst.len())?;
        // SAFETY: as in to_vec; `dst` holds `len` elements of private memory.
        unsafe {
            load(
                self.data as *const u8,
                dst.as_mut_ptr() as *mut u8,
                self.len * size_of::<T>(),
            )
        };
        Ok(())
    }

    fn read(&self, pos: usize) -> T {
        debug_assert!(pos < self.len);
        let mut value = MaybeUninit::<T>::uninit();
        // SAFETY: element `pos` lies in the live mapping (pos < len); `value`
        // is private memory of its size; every bit pattern is a valid T.
        unsafe {
            load(
                self.data.add(pos) as *const u8,
                value.as_mut_ptr() as *mut u8,
                size_of::<T>(),
            );
            value.assume_init()
        }
    }

    fn same_len(&self, n: usize) -> io::Result<()> {
        if n == self.len {
            return Ok(());
        }
        Err(Error::new(
            EINVAL,
            format!(
                "array {:?} of dimensions {:?} has {} elements, not {}",
                self.shm.id(),
                self.dims,
                self.len,
                n
            ),
        )
        .into())
    }
}

impl<'a, T: Element> TypedArray<'a, T, ReadWrite> {
    /// Writes `value` at a multi-index `[i, j, ...]`. An index that is not
    /// the array's (another number of indices, or one out of bounds):
    /// `InvalidInput`, nothing written.
    pub fn set(&self, index: &[usize], value: T) -> io::Result<()> {
        match column_major(&self.dims, index) {
            Some(pos) => {
                self.write(pos, value);
                Ok(())
            }
            None => Err(Error::new(
                EINVAL,
                format!(
                    "index {:?} is not within the dimensions {:?} of array {:?}",
                    index,
                    self.dims,
                    self.shm.id()
                ),
            )
            .into()),
        }
    }

    /// Writes `value` at position `pos` in memory order; past the end:
    /// `InvalidInput`, nothing written.
    pub fn set_flat(&self, pos: usize, value: T) -> io::Result<()> {
        if pos < self.len {
            self.write(pos, value);
            return Ok(());
        }
        Err(Error::new(
            EINVAL,
            format!(
                "position {} is past the {} elements of array {:?}",
                pos,
                self.len,
                self.shm.id()
            ),
        )
        .into())
    }

    /// Copies `src`, in memory order, into the elements; it must have exactly
    /// [`len`](Self::len) of them (else `InvalidInput`, nothing written).
    pub fn copy_from_slice(&self, src: &[T]) -> io::Result<()> {
        self.same_len(src.len())?;
        // SAFETY: the elements lie in the live, writable mapping (a
        // TypedArray<_, ReadWrite> borrows a Shm<ReadWrite>); `src` is private
        // memory of `len` elements.
        unsafe {
            store(
                self.data as *mut u8,
                src.as_ptr() as *const u8,
                self.len * size_of::<T>(),
            )
        };
        Ok(())
    }

    /// Writes `value` into every element.
    pub fn fill(&self, value: T) {
        for pos in 0..self.len {
            self.write(pos, value);
        }
    }

    fn write(&self, pos: usize, value: T) {
        debug_assert!(pos < self.len);
        // SAFETY: element `pos` lies in the live, writable mapping; `value` is
        // a private copy.
        unsafe {
            store(
                self.data.add(pos) as *mut u8,
                &value as *const T as *const u8,
                size_of::<T>(),
            )
        };
    }
}

impl<'a, T: Element + fmt::Debug, A: Access> fmt::Debug for TypedArray<'a, T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedArray")
            .field("id", &self.shm.id())
            .field("etype", &T::ETYPE)
            .field("dims", &self.dims)
            .finish()
    }
}
