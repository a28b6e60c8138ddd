//! What a server knows about one connected client.
//!
//! A [`Session`] is created when a connection is accepted and shared (behind an `Arc`)
//! with every call that connection makes. The hello layer marks it authenticated; the
//! connection reads that flag to lift the pre-auth size limit and to let publications
//! through. It also keeps who the client is ([`Identity`], from the hello) and the
//! connection's [`Extensions`], where tower layers and handlers leave per-connection
//! values.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::codec::Generation;
use crate::extensions::{Extensions, Identity};
use crate::id::ClientId;
use crate::transport::PeerInfo;

/// One client connection, as seen by the server.
#[derive(Debug)]
pub struct Session {
    client_id: ClientId,
    generation: AtomicU8,
    max_frame_size: usize,
    peer: PeerInfo,
    authenticated: AtomicBool,
    identity: Mutex<Option<Identity>>,
    extensions: Mutex<Extensions>,
}

impl Session {
    /// A new, unauthenticated session. `max_frame_size` is the chunk size the server
    /// announces in its 2.x hello reply (`maxMsgSize`); `generation` is a first guess that
    /// the server may correct once the client's first frame shows what it speaks.
    pub fn new(
        client_id: ClientId,
        generation: Generation,
        max_frame_size: usize,
        peer: PeerInfo,
    ) -> Self {
        Session {
            client_id,
            generation: AtomicU8::new(encode_generation(generation)),
            max_frame_size,
            peer,
            authenticated: AtomicBool::new(false),
            identity: Mutex::new(None),
            extensions: Mutex::new(Extensions::new()),
        }
    }

    /// The id the client learns in the hello reply (`c` + 32 hex digits).
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The wire generation the client speaks.
    pub fn generation(&self) -> Generation {
        match self.generation.load(Ordering::Acquire) {
            1 => Generation::V1,
            _ => Generation::V2,
        }
    }

    /// Records the generation the client turned out to speak.
    pub fn set_generation(&self, generation: Generation) {
        self.generation
            .store(encode_generation(generation), Ordering::Release);
    }

    /// The chunk size the server uses towards this client (`maxMsgSize`).
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// What the transport knows about the client (address, `Origin`, path).
    pub fn peer(&self) -> &PeerInfo {
        &self.peer
    }

    /// `true` once a hello succeeded.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated.load(Ordering::Acquire)
    }

    /// Marks the session authenticated (or not).
    pub fn set_authenticated(&self, authenticated: bool) {
        self.authenticated.store(authenticated, Ordering::Release);
    }

    /// Marks the session authenticated as `identity` (replacing an earlier one, as a
    /// second successful hello does).
    pub fn authenticate_as(&self, identity: Identity) {
        *lock(&self.identity) = Some(identity);
        self.set_authenticated(true);
    }

    /// Who the client is, once a hello succeeded.
    pub fn identity(&self) -> Option<Identity> {
        lock(&self.identity).clone()
    }

    /// The connection's extensions: values that layers and handlers attach to it. Keep
    /// the guard short (do not hold it across an `.await`).
    pub fn extensions(&self) -> MutexGuard<'_, Extensions> {
        lock(&self.extensions)
    }

    /// A copy of the connection's extension of type `T`, if any.
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions().get::<T>().cloned()
    }

    /// Attaches `value` to the connection, handing back the value it replaces.
    pub fn insert_extension<T: Send + Sync + 'static>(
        &self,
        value: T,
    ) -> Option<std::sync::Arc<T>> {
        self.extensions().insert(value)
    }
}

/// A poisoned lock still holds consistent data here (each update is one assignment).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn encode_generation(generation: Generation) -> u8 {
    match generation {
        Generation::V1 => 1,
        Generation::V2 => 2,
    }
}
