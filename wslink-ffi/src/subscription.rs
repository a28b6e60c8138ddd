//! Subscriptions for C: a callback per publication of a topic, until unsubscribed.
//!
//! A network task receives the topic's publications (as the Rust client's
//! `Subscription` does, surviving reconnects) and queues
//! each on the client's callback thread. Unsubscribing switches the subscription off
//! under a lock that every delivery takes, so once [`wslink_unsubscribe`] returns, its
//! callback never runs again.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

use crate::boundary::{c_str, guard, put, status};
use crate::callbacks::{ThreadTag, UserData};
use crate::client::{borrow, wslink_client};
use crate::error::{wslink_error, wslink_status, Failure};
use crate::value::wslink_value;

/// The callback of [`wslink_subscribe`]: `data` is the publication, *borrowed* for the
/// duration of the call (copy what you keep; do not free it).
pub type wslink_publication_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const wslink_value)>;

/// A subscription (opaque).
#[derive(Debug)]
pub struct wslink_subscription {
    shared: Arc<Shared>,
    task: AbortHandle,
    /// The client's callback thread (not a queue: a subscription outliving its client
    /// must not keep that thread alive).
    callbacks: ThreadTag,
}

#[derive(Debug)]
struct Shared {
    active: AtomicBool,
    /// Held while a callback runs, so that unsubscribing can wait for it.
    running: Mutex<()>,
}

impl Shared {
    fn deliver(
        &self,
        callback: unsafe extern "C" fn(*mut c_void, *const wslink_value),
        user_data: UserData,
        data: &wslink_value,
    ) {
        let _running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if self.active.load(Ordering::Acquire) {
            // SAFETY: the caller of `wslink_subscribe` gave this callback and user data
            // for exactly this use; `data` lives for the duration of the call; this
            // runs on the callback thread, as documented.
            unsafe { callback(user_data.get(), data) }
        }
    }
}

/// Calls `callback(user_data, data)` on the client's callback thread for every
/// publication on `topic`, in arrival order, until [`wslink_unsubscribe`]. Stores the
/// subscription in `*subscription` (owned by the caller). A server that takes
/// server-side subscriptions is told; the subscription survives reconnects. Fails with
/// `WSLINK_ERROR_INVALID_ARGUMENT` for a topic that is not dot-separated words of
/// letters, digits and `_`, and `WSLINK_ERROR_DISCONNECTED` on a closed client.
/// `user_data` must stay usable until `wslink_unsubscribe` returned. Any thread.
///
/// # Safety
/// `client` is NULL or a live client; `topic` is NULL or a NUL-terminated string;
/// `callback` is NULL or a function of the right type that does not unwind;
/// `subscription` and `error` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn wslink_subscribe(
    client: *const wslink_client,
    topic: *const c_char,
    callback: wslink_publication_fn,
    user_data: *mut c_void,
    subscription: *mut *mut wslink_subscription,
    error: *mut *mut wslink_error,
) -> wslink_status {
    status(error, || {
        if subscription.is_null() {
            return Err(Failure::invalid("subscription is NULL"));
        }
        let callback = callback.ok_or_else(|| Failure::invalid("callback is NULL"))?;
        // SAFETY: null or live, by the contract above.
        let this = unsafe { borrow(client) }?;
        // SAFETY: a NUL-terminated string, by the contract above.
        let topic = unsafe { c_str(topic, "topic") }?;
        let client = this.client()?;
        let mut publications = {
            let _in_runtime = this.runtime().enter(); // the client spawns its own tasks
            client.subscribe(topic)?
        };
        let shared = Arc::new(Shared {
            active: AtomicBool::new(true),
            running: Mutex::new(()),
        });
        let (queue, user_data) = (this.queue().clone(), UserData(user_data));
        let task = this.runtime().spawn({
            let (shared, queue) = (shared.clone(), queue.clone());
            async move {
                while let Some(data) = publications.recv().await {
                    let shared = shared.clone();
                    queue.run(move || shared.deliver(callback, user_data, &wslink_value(data)));
                }
            }
        });
        let made = Box::new(wslink_subscription {
            shared,
            task: task.abort_handle(),
            callbacks: queue.tag(),
        });
        // SAFETY: non-null (checked above) and writable, by the contract above.
        unsafe { put(subscription, Box::into_raw(made), "subscription") }
    })
}

/// Unsubscribes and frees `subscription`. When this returns, its callback is not
/// running and never runs again (from inside that very callback, it does not run again
/// once the callback returns). Works after the client was closed or freed. NULL is
/// allowed. Any thread.
///
/// # Safety
/// `subscription` is NULL or a live subscription from [`wslink_subscribe`], not used by
/// another thread meanwhile; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn wslink_unsubscribe(subscription: *mut wslink_subscription) {
    if subscription.is_null() {
        return;
    }
    // SAFETY: from `Box::into_raw` in `wslink_subscribe`, freed once, by the contract
    // above.
    let subscription = unsafe { Box::from_raw(subscription) };
    guard((), move || {
        subscription.shared.active.store(false, Ordering::Release);
        if !subscription.callbacks.is_current() {
            // Wait for a callback running now; later ones see `active` false.
            drop(subscription.shared.running.lock());
        }
        // Stops the network task; dropping its subscription tells the client.
        subscription.task.abort();
    });
}
