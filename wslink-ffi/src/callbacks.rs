//! The callback thread: where every C callback of one client runs.
//!
//! Each client has one thread of its own, `wslink-callbacks`, that runs the callbacks of
//! that client (call completions and publications) one at a time, in the order they were
//! queued. So a callback may block, and may call the blocking functions of the library
//! (`wslink_call`), without stalling the network: the network runs on the client's tokio
//! threads, which never run C code.
//!
//! A queued callback holds a [`Queue`] (a sender of jobs), so the thread lives until the
//! last job has run: a call completion queued while the client is freed still runs.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::boundary::guard;

type Job = Box<dyn FnOnce() + Send>;

/// Numbers the callback threads (0: none).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the callback thread this is, 0 on any other thread. A plain `Cell`: it
    /// allocates nothing on the caller's threads (unlike `std::thread::current()`, whose
    /// handle on a thread not started by Rust is never freed).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// Names one callback thread, to tell whether code runs on it. Holds no sender, so it
/// does not keep the thread alive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadTag(u64);

impl ThreadTag {
    /// `true` on this callback thread (inside one of its callbacks).
    pub(crate) fn is_current(self) -> bool {
        CURRENT.with(|id| id.get() == self.0)
    }
}

/// A handle to queue jobs on one client's callback thread.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    jobs: mpsc::Sender<Job>,
    thread: ThreadTag,
}

impl Queue {
    /// Runs `job` on the callback thread, after those queued before it.
    pub(crate) fn run(&self, job: impl FnOnce() + Send + 'static) {
        // The receiving thread outlives every sender (see the module docs), so this only
        // fails if the thread itself died, which `guard` prevents.
        if self.jobs.send(Box::new(job)).is_err() {
            tracing::error!("the callback thread is gone: a callback was dropped");
        }
    }

    /// The thread's tag.
    pub(crate) fn tag(&self) -> ThreadTag {
        self.thread
    }
}

/// The callback thread of a client.
#[derive(Debug)]
pub(crate) struct CallbackThread {
    queue: Queue,
    handle: JoinHandle<()>,
}

impl CallbackThread {
    pub(crate) fn start() -> std::io::Result<CallbackThread> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let thread = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let handle = std::thread::Builder::new()
            .name("wslink-callbacks".into())
            .spawn(move || {
                CURRENT.with(|id| id.set(thread));
                for job in inbox {
                    guard((), job);
                }
            })?;
        Ok(CallbackThread {
            queue: Queue {
                jobs,
                thread: ThreadTag(thread),
            },
            handle,
        })
    }

    pub(crate) fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Lets the thread finish the jobs queued so far (and those still to come from
    /// pending completions), and waits for it, unless called from the thread itself
    /// (then it finishes on its own).
    pub(crate) fn finish(self) {
        let on_it = self.queue.tag().is_current();
        drop(self.queue);
        if !on_it && self.handle.join().is_err() {
            tracing::error!("the callback thread panicked");
        }
    }
}

/// The `user_data` pointer of a C callback, carried to the callback thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

impl UserData {
    /// The pointer (a method, so that closures capture the whole `UserData`).
    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}

// SAFETY: the library never reads through the pointer; it only hands it back to the
// caller's callback, on the callback thread, as every function taking `user_data`
// documents (the caller makes it safe to use there).
unsafe impl Send for UserData {}
