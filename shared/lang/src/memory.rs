//! Counting the bytes a script's values hold, so a memory limit can hold.
//!
//! [`Counting`] wraps the system allocator; a program that runs scripts
//! registers it as its `#[global_allocator]` (the relay, the page). Every
//! block carries a small header naming the [`Meter`] that was current on its
//! thread when it was allocated, so its bytes are given back to that meter
//! when it is freed, wherever and whenever that happens. Without the
//! allocator registered, meters read zero and no memory limit applies.
//!
//! A meter's account (24 bytes) is never freed: a block may outlive the run
//! that made it (an event handed to the page), and counting references to
//! the account would cost two more atomic operations per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in front of every block: the meter's address sits in the last word.
const HEADER: usize = 16;

struct Account {
    bytes: AtomicUsize,
    /// The most bytes the script may hold (see [`would_exceed`]).
    limit: AtomicUsize,
}

thread_local! {
    static CURRENT: Cell<*const Account> = const { Cell::new(ptr::null()) };
}

/// The allocator that charges blocks to the current meter.
pub struct Counting;

fn header(layout: Layout) -> usize {
    HEADER.max(layout.align())
}

fn outer(layout: Layout) -> Option<Layout> {
    let h = header(layout);
    Layout::from_size_align(layout.size().checked_add(h)?, layout.align().max(HEADER)).ok()
}

/// The meter word just before the block handed out.
///
/// # Safety
/// `user` must be a block this allocator returned.
unsafe fn slot(user: *mut u8) -> *mut *const Account {
    // SAFETY: the header (at least 16 bytes, 16-aligned) precedes every block.
    unsafe { user.sub(size_of::<usize>()).cast() }
}

/// Adds to an account with a plain load and store, not a locked
/// read-modify-write: a run allocates and frees on its own thread, and were
/// another thread to free one of its blocks at the same instant, the count
/// would be off by that block, nothing worse.
fn add(account: *const Account, bytes: usize, sub: usize) {
    if !account.is_null() {
        // SAFETY: accounts are never freed.
        let count = &unsafe { &*account }.bytes;
        count.store(count.load(Ordering::Relaxed).wrapping_add(bytes).wrapping_sub(sub), Ordering::Relaxed);
    }
}

fn charge(account: *const Account, bytes: usize) {
    add(account, bytes, 0);
}

fn release(account: *const Account, bytes: usize) {
    add(account, 0, bytes);
}

impl Counting {
    unsafe fn allocate(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let Some(full) = outer(layout) else { return ptr::null_mut() };
        // SAFETY: `full` has a non-zero size (it includes the header).
        let base = unsafe { if zeroed { System.alloc_zeroed(full) } else { System.alloc(full) } };
        if base.is_null() {
            return base;
        }
        let account = CURRENT.with(Cell::get);
        // SAFETY: `base` has `header(layout)` bytes before the user's block.
        unsafe {
            let user = base.add(header(layout));
            slot(user).write(account);
            charge(account, layout.size());
            user
        }
    }
}

// SAFETY: blocks come from `System` with room for the header in front; the
// header is read back with the same layout arithmetic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { self.allocate(layout, false) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { self.allocate(layout, true) }
    }

    unsafe fn dealloc(&self, user: *mut u8, layout: Layout) {
        // SAFETY: `user` came from `alloc` with this layout.
        unsafe {
            let account = slot(user).read();
            let Some(full) = outer(layout) else { return };
            System.dealloc(user.sub(header(layout)), full);
            release(account, layout.size());
        }
    }

    unsafe fn realloc(&self, user: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let h = header(layout);
        let (Some(full), Some(new_full)) = (outer(layout), new_size.checked_add(h)) else {
            return ptr::null_mut();
        };
        // SAFETY: `user` came from `alloc` with this layout; the header moves with the block.
        unsafe {
            let account = slot(user).read();
            let base = System.realloc(user.sub(h), full, new_full);
            if base.is_null() {
                return base;
            }
            add(account, new_size, layout.size());
            base.add(h)
        }
    }
}

/// What one run of a script has allocated and not yet freed.
#[derive(Debug)]
pub struct Meter(*const Account);

// SAFETY: the account is only touched through atomics.
unsafe impl Send for Meter {}
// SAFETY: as above.
unsafe impl Sync for Meter {}

impl Meter {
    pub fn new() -> Meter {
        let layout = Layout::new::<Account>();
        // SAFETY: the layout is non-zero; the account is written before use.
        let account = unsafe { System.alloc(layout) }.cast::<Account>();
        if account.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // SAFETY: freshly allocated with Account's layout.
        unsafe { account.write(Account { bytes: AtomicUsize::new(0), limit: AtomicUsize::new(usize::MAX) }) };
        Meter(account)
    }

    /// Bytes allocated while this meter was current and not freed since.
    pub fn bytes(&self) -> usize {
        // SAFETY: accounts are never freed.
        unsafe { &*self.0 }.bytes.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        // SAFETY: accounts are never freed.
        unsafe { &*self.0 }.limit.load(Ordering::Relaxed)
    }

    pub fn set_limit(&self, bytes: usize) {
        // SAFETY: accounts are never freed.
        unsafe { &*self.0 }.limit.store(bytes, Ordering::Relaxed);
    }

    /// Charges this thread's allocations to the meter until the guard drops.
    pub fn enter(&self) -> Entered<'_> {
        Entered(CURRENT.with(|c| c.replace(self.0)), PhantomData)
    }
}

/// Another handle on the same meter.
impl Clone for Meter {
    fn clone(&self) -> Meter {
        Meter(self.0)
    }
}

impl Default for Meter {
    fn default() -> Meter {
        Meter::new()
    }
}

/// While alive, the thread's allocations go to a meter; restores the one before.
pub struct Entered<'a>(*const Account, PhantomData<&'a Meter>);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Whether allocating `extra` more bytes would take the current meter past
/// its limit; the limit if so. Checked before building a large value at once.
pub fn would_exceed(extra: usize) -> Option<usize> {
    let account = CURRENT.with(Cell::get);
    if account.is_null() {
        return None;
    }
    // SAFETY: a current meter is alive (its `Entered` guard borrows it).
    let a = unsafe { &*account };
    let limit = a.limit.load(Ordering::Relaxed);
    (a.bytes.load(Ordering::Relaxed).saturating_add(extra) > limit).then_some(limit)
}
