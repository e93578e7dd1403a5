//! `ArrayView` and `ArrayViewMut`: the elements of a typed array as plain
//! slices, from the unsafe `Shm::array` and `Shm::array_mut`, for speed where
//! the processes' protocol rules out concurrent writers. The safe way to the
//! same elements is `TypedArray` (typed_array.rs).

use crate::array::column_major;
use crate::{Access, Element, ReadWrite, Shm};
use std::io;
use std::ops::{Deref, DerefMut};

impl<A: Access> Shm<A> {
    /// The array of `T` in this object (libipcshm 1.1) as a slice of its
    /// elements, in place (no copy), with its dimensions (column-major). The
    /// safe way to the same elements, by copy, is
    /// [`typed_array`](Self::typed_array).
    ///
    /// The header is read once through `ipcshm_array_header` (which copies it
    /// out of the shared memory and checks magic, element type, dimensions,
    /// offset and size), then checked again here: `T`'s code must be the
    /// header's element type, and the elements must lie within this mapping,
    /// aligned for `T`. Otherwise `InvalidData` (errno `EBADMSG`), with a
    /// message naming the object and both types.
    ///
    /// # Safety
    ///
    /// The contract of [`as_slice`](Self::as_slice), for the elements: while
    /// the view lives, nothing writes them (no other mapping of the object,
    /// here or in another process, and not this `Shm` through its safe
    /// writers from other threads), and the object is not truncated.
    ///
    /// ```
    /// let shm = ipcshm::Shm::create_array::<i32>("memfd:doc", &[4])?;
    /// // SAFETY: a new memfd object: no other mapping of it exists.
    /// let a = unsafe { shm.array::<i32>()? };
    /// assert_eq!(a.as_slice(), &[0, 0, 0, 0]);
    /// // SAFETY: as above.
    /// let err = unsafe { shm.array::<f32>() }.unwrap_err(); // the header says Int32
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// ```compile_fail,E0133
    /// let shm = ipcshm::Shm::create_array::<i32>("memfd:doc", &[4])?;
    /// let a = shm.array::<i32>()?; // error[E0133]: call to unsafe function
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn array<T: Element>(&self) -> io::Result<ArrayView<'_, T>> {
        let (data, len, dims) = self.locate_array::<T>()?;
        // locate_array checked that `len` elements of T from `data` lie in our
        // mapping, aligned; the mapping lives as long as the borrow of self;
        // every bit pattern is a valid T (Element is sealed to such types);
        // writers and truncation: the caller's contract.
        let data = std::slice::from_raw_parts(data as *const T, len);
        Ok(ArrayView { data, dims })
    }
}

impl Shm<ReadWrite> {
    /// The array of `T` in this object as a writable slice of its elements;
    /// see [`array`](Shm::array) for what is checked, and
    /// [`typed_array`](Shm::typed_array) for the safe way. Takes `&mut self`,
    /// as [`as_mut_slice`](Self::as_mut_slice) does.
    ///
    /// # Safety
    ///
    /// The contract of [`as_mut_slice`](Self::as_mut_slice), for the
    /// elements: while the view lives, no other mapping of the object, here
    /// or in another process, reads or writes them, and the object is not
    /// truncated.
    ///
    /// ```
    /// let mut shm = ipcshm::Shm::create_array::<f64>("memfd:doc", &[3, 2])?;
    /// // SAFETY: a new memfd object: no other mapping of it exists.
    /// let mut a = unsafe { shm.array_mut::<f64>()? };
    /// *a.get_mut(&[2, 1]).unwrap() = 6.0; // the last element, column-major
    /// assert_eq!(a[5], 6.0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// ```compile_fail,E0133
    /// let mut shm = ipcshm::Shm::create_array::<f64>("memfd:doc", &[3, 2])?;
    /// let mut a = shm.array_mut::<f64>()?; // error[E0133]: call to unsafe function
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn array_mut<T: Element>(&mut self) -> io::Result<ArrayViewMut<'_, T>> {
        let (data, len, dims) = self.locate_array::<T>()?;
        // As in array(), in our read-write mapping; &mut self excludes every
        // other access through this handle; other mappings: the caller's
        // contract.
        let data = std::slice::from_raw_parts_mut(data as *mut T, len);
        Ok(ArrayViewMut { data, dims })
    }
}

/// An array in shared memory as a slice ([`Shm::array`], unsafe): its
/// dimensions and its elements, column-major. Derefs to `[T]`;
/// [`get`](Self::get) takes a multi-index. Borrows the `Shm`, so the mapping
/// cannot go away (or move, by [`Shm::resize`]) while the view lives.
#[derive(Debug)]
pub struct ArrayView<'a, T> {
    data: &'a [T],
    dims: Vec<usize>,
}

impl<'a, T: Element> ArrayView<'a, T> {
    /// The dimensions, column-major (the first varies fastest).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements, in memory order.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// The element at a multi-index `[i, j, ...]` (as many as dimensions, each
    /// in bounds), or `None`.
    pub fn get(&self, index: &[usize]) -> Option<&'a T> {
        column_major(&self.dims, index).map(|pos| &self.data[pos])
    }
}

impl<'a, T: Element> Deref for ArrayView<'a, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.data
    }
}

/// An array in shared memory as a writable slice ([`Shm::array_mut`],
/// unsafe). Derefs to `[T]` and `mut [T]`.
#[derive(Debug)]
pub struct ArrayViewMut<'a, T> {
    data: &'a mut [T],
    dims: Vec<usize>,
}

impl<'a, T: Element> ArrayViewMut<'a, T> {
    /// The dimensions, column-major (the first varies fastest).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements, in memory order.
    pub fn as_slice(&self) -> &[T] {
        self.data
    }

    /// The elements, writable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data
    }

    /// The element at a multi-index `[i, j, ...]`, or `None`.
    pub fn get(&self, index: &[usize]) -> Option<&T> {
        column_major(&self.dims, index).map(|pos| &self.data[pos])
    }

    /// The element at a multi-index `[i, j, ...]`, writable, or `None`.
    pub fn get_mut(&mut self, index: &[usize]) -> Option<&mut T> {
        column_major(&self.dims, index).map(move |pos| &mut self.data[pos])
    }
}

impl<'a, T: Element> Deref for ArrayViewMut<'a, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.data
    }
}

impl<'a, T: Element> DerefMut for ArrayViewMut<'a, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.data
    }
}
