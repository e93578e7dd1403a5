//! Safe access to the shared bytes: copies out and in (`read_at`, `read_vec`,
//! `write_at`), atomic views (`atomic_u8`, `atomic_u32`, `atomic_u64`) and
//! atomic loads. None of them forms a `&[u8]` or `&mut [u8]` over memory that
//! other mappings may write at the same time: every access to the shared bytes
//! is an atomic one (relaxed, unless the caller gives an ordering), which Rust
//! defines even while another thread or process writes the same bytes.

use crate::error::{Error, EINVAL};
use crate::{Access, ReadWrite, Shm};
use std::io;
use std::ptr;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// Copies `len` bytes from shared memory at `src` to private memory at `dst`
/// with relaxed atomic loads: 8-byte words where `src` is aligned for them,
/// smaller aligned pieces at the edges. So a value of 8 bytes or less that is
/// aligned to its size is read in one access, never torn; a longer range may
/// mix bytes written before and after a concurrent writer's store.
///
/// # Safety
/// `src..src + len` lies in a live mapping (readable) and `dst..dst + len` is
/// valid for writes and does not overlap it.
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) {
    let mut i = 0;
    // The head, up to the first 8-byte boundary of `src`.
    while i < len && (src as usize + i) % 8 != 0 {
        i += load_piece(src.add(i), dst.add(i), len - i);
    }
    // The body, a word at a time.
    while len - i >= 8 {
        let word = (*(src.add(i) as *const AtomicU64)).load(Ordering::Relaxed);
        ptr::write_unaligned(dst.add(i) as *mut u64, word);
        i += 8;
    }
    while i < len {
        i += load_piece(src.add(i), dst.add(i), len - i);
    }
}

/// One load of the largest piece (4, 2 or 1 bytes) that `src` is aligned for
/// and `rest` covers; returns its size.
unsafe fn load_piece(src: *const u8, dst: *mut u8, rest: usize) -> usize {
    let at = src as usize;
    if at % 4 == 0 && rest >= 4 {
        let v = (*(src as *const AtomicU32)).load(Ordering::Relaxed);
        ptr::write_unaligned(dst as *mut u32, v);
        4
    } else if at % 2 == 0 && rest >= 2 {
        let v = (*(src as *const AtomicU16)).load(Ordering::Relaxed);
        ptr::write_unaligned(dst as *mut u16, v);
        2
    } else {
        *dst = (*(src as *const AtomicU8)).load(Ordering::Relaxed);
        1
    }
}

/// Copies `len` bytes from private memory at `src` to shared memory at `dst`
/// with relaxed atomic stores, in the pieces [`load`] uses.
///
/// # Safety
/// `dst..dst + len` lies in a live, writable mapping and `src..src + len` is
/// valid for reads and does not overlap it.
pub(crate) unsafe fn store(dst: *mut u8, src: *const u8, len: usize) {
    let mut i = 0;
    while i < len && (dst as usize + i) % 8 != 0 {
        i += store_piece(dst.add(i), src.add(i), len - i);
    }
    while len - i >= 8 {
        let word = ptr::read_unaligned(src.add(i) as *const u64);
        (*(dst.add(i) as *const AtomicU64)).store(word, Ordering::Relaxed);
        i += 8;
    }
    while i < len {
        i += store_piece(dst.add(i), src.add(i), len - i);
    }
}

unsafe fn store_piece(dst: *mut u8, src: *const u8, rest: usize) -> usize {
    let at = dst as usize;
    if at % 4 == 0 && rest >= 4 {
        let v = ptr::read_unaligned(src as *const u32);
        (*(dst as *const AtomicU32)).store(v, Ordering::Relaxed);
        4
    } else if at % 2 == 0 && rest >= 2 {
        let v = ptr::read_unaligned(src as *const u16);
        (*(dst as *const AtomicU16)).store(v, Ordering::Relaxed);
        2
    } else {
        (*(dst as *const AtomicU8)).store(*src, Ordering::Relaxed);
        1
    }
}

/// `offset..offset + len` if it lies within a mapping of `size` bytes.
fn range(shm_id: &str, size: usize, offset: usize, len: usize, what: &str) -> io::Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(Error::new(
            EINVAL,
            format!(
                "{} {} bytes at offset {} of {:?}: the mapping has {} bytes",
                what, len, offset, shm_id, size
            ),
        )
        .into()),
    }
}

/// `&[W]` over the whole words of a mapping. The caller picks `W` among the
/// atomic integer types, whose alignment the page-aligned mapping satisfies.
fn words<W>(shm: &Shm<ReadWrite>) -> &[W] {
    let n = shm.len / std::mem::size_of::<W>();
    debug_assert_eq!(shm.ptr.as_ptr() as usize % std::mem::align_of::<W>(), 0);
    // SAFETY: the mapping is `len` bytes, readable and writable, aligned (it
    // starts at a page), and stays mapped while `shm` is borrowed (detaching
    // and resizing need it by value or by `&mut`). W is an atomic integer:
    // shared references to it permit the concurrent writes of other threads,
    // handles and processes.
    unsafe { std::slice::from_raw_parts(shm.ptr.as_ptr() as *const W, n) }
}

impl<A: Access> Shm<A> {
    /// Copies `buf.len()` bytes at `offset` of the mapping into `buf`. Safe
    /// whatever other mappings of the object do meanwhile: the bytes are read
    /// with relaxed atomic loads (8-byte words where aligned), so a value of
    /// up to 8 bytes at an offset aligned to its size is never torn, and a
    /// longer range written concurrently may mix old and new bytes (agree on
    /// a protocol, such as a lock or a sequence number, for consistent
    /// records). Past the end of the mapping: `InvalidInput`, nothing read.
    ///
    /// ```
    /// let shm = ipcshm::Shm::create("memfd:doc", 4096)?;
    /// shm.write_at(100, b"hello")?;
    /// let mut buf = [0u8; 5];
    /// shm.read_at(100, &mut buf)?;
    /// assert_eq!(&buf, b"hello");
    /// assert!(shm.read_at(4094, &mut buf).is_err()); // past the end
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        range(&self.id, self.len, offset, buf.len(), "read of")?;
        // SAFETY: the range lies in our live, readable mapping (checked above);
        // `buf` is private memory, which no mapping overlaps.
        unsafe { load(self.ptr.as_ptr().add(offset), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// `len` bytes at `offset`, copied as [`read_at`](Self::read_at) does.
    pub fn read_vec(&self, offset: usize, len: usize) -> io::Result<Vec<u8>> {
        range(&self.id, self.len, offset, len, "read of")?;
        let mut buf = vec![0u8; len];
        self.read_at(offset, &mut buf)?;
        Ok(buf)
    }

    /// The byte at `index`, loaded with `order` (which may not be `Release`
    /// or `AcqRel`, as for [`AtomicU8::load`]); `None` past the end. For
    /// every access mode: a read-only mapping has no atomic view, since a
    /// store through one would fault.
    pub fn load_u8(&self, index: usize, order: Ordering) -> Option<u8> {
        self.load_word::<AtomicU8, u8>(index, order, AtomicU8::load)
    }

    /// The aligned 32-bit word at `index` (bytes `4 * index ..`), loaded with
    /// `order`; `None` past the end. See [`load_u8`](Self::load_u8).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// # let id = format!("/ipcshm-doc-load-{}", std::process::id());
    /// let writer = ipcshm::Shm::create(&id, 4096)?;
    /// let reader = ipcshm::Shm::attach_readonly(&id)?; // usually another process
    /// writer.atomic_u32()[1].store(7, Ordering::Release);
    /// assert_eq!(reader.load_u32(1, Ordering::Acquire), Some(7));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn load_u32(&self, index: usize, order: Ordering) -> Option<u32> {
        self.load_word::<AtomicU32, u32>(index, order, AtomicU32::load)
    }

    /// The aligned 64-bit word at `index` (bytes `8 * index ..`), loaded with
    /// `order`; `None` past the end. See [`load_u8`](Self::load_u8).
    pub fn load_u64(&self, index: usize, order: Ordering) -> Option<u64> {
        self.load_word::<AtomicU64, u64>(index, order, AtomicU64::load)
    }

    fn load_word<W, V>(
        &self,
        index: usize,
        order: Ordering,
        load: fn(&W, Ordering) -> V,
    ) -> Option<V> {
        if index >= self.len / std::mem::size_of::<W>() {
            return None;
        }
        // SAFETY: in bounds (checked above), aligned (the mapping starts at a
        // page and `index` counts whole words), readable and mapped while
        // `self` is borrowed. A load does not write, so it is sound on a
        // read-only mapping too.
        let word = unsafe { &*(self.ptr.as_ptr() as *const W).add(index) };
        Some(load(word, order))
    }
}

impl Shm<ReadWrite> {
    /// Copies `data` into the mapping at `offset` with relaxed atomic stores
    /// (8-byte words where aligned), so that other mappings, threads and
    /// processes may read or write the same bytes meanwhile without undefined
    /// behaviour (a concurrent reader may see part of the new bytes). Takes
    /// `&self`: several threads may write through one `Shm`. Past the end of
    /// the mapping: `InvalidInput`, nothing written.
    pub fn write_at(&self, offset: usize, data: &[u8]) -> io::Result<()> {
        range(&self.id, self.len, offset, data.len(), "write of")?;
        // SAFETY: the range lies in our live, writable mapping (checked
        // above); `data` is private memory, which no mapping overlaps.
        unsafe { store(self.ptr.as_ptr().add(offset), data.as_ptr(), data.len()) };
        Ok(())
    }

    /// The mapping as atomic bytes, for flags, counters and lock-free
    /// protocols with other processes (atomics work across processes on one
    /// machine). A read-write mapping only: on a read-only one, see
    /// [`load_u8`](Shm::load_u8).
    ///
    /// Mixing sizes: Rust defines racing atomic accesses only when they have
    /// the same size (racing atomic *reads* of different sizes are fine), so
    /// let one size own each location: do not store through `atomic_u8` to
    /// bytes that another thread reads through `atomic_u32` at the same time
    /// (or through [`read_at`](Shm::read_at), which reads 8-byte words).
    ///
    /// The view borrows the `Shm`: it cannot outlive a
    /// [`resize`](Shm::resize), which may move the mapping, nor the `Shm`.
    ///
    /// ```compile_fail,E0502
    /// let mut shm = ipcshm::Shm::create("memfd:doc", 64)?;
    /// let flags = shm.atomic_u8();
    /// shm.resize(8192)?; // error[E0502]: `shm` is borrowed by `flags`
    /// flags[0].load(std::sync::atomic::Ordering::Relaxed);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// ```compile_fail,E0505
    /// let shm = ipcshm::Shm::create("memfd:doc", 64)?;
    /// let flags = shm.atomic_u8();
    /// drop(shm); // error[E0505]: cannot move out of `shm` while borrowed
    /// flags[0].load(std::sync::atomic::Ordering::Relaxed);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn atomic_u8(&self) -> &[AtomicU8] {
        words(self)
    }

    /// The whole 32-bit words of the mapping as `AtomicU32` (`len() / 4` of
    /// them; word `i` is bytes `4 * i ..`). See [`atomic_u8`](Self::atomic_u8).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let shm = ipcshm::Shm::create("memfd:doc", 4096)?;
    /// let counters = shm.atomic_u32();
    /// assert_eq!(counters.len(), 1024);
    /// counters[3].fetch_add(1, Ordering::AcqRel);
    /// assert_eq!(shm.load_u32(3, Ordering::Acquire), Some(1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn atomic_u32(&self) -> &[AtomicU32] {
        words(self)
    }

    /// The whole 64-bit words of the mapping as `AtomicU64` (`len() / 8` of
    /// them). See [`atomic_u8`](Self::atomic_u8).
    pub fn atomic_u64(&self) -> &[AtomicU64] {
        words(self)
    }
}
