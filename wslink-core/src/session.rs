//! What a server knows about one connected client.
//!
//! A [`Session`] is created when a connection is accepted and shared (behind an `Arc`)
//! with every call that connection makes. The hello layer marks it authenticated; the
//! connection reads that flag to lift the pre-auth size limit and to let publications
//! through.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::codec::Generation;
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
}

fn encode_generation(generation: Generation) -> u8 {
    match generation {
        Generation::V1 => 1,
        Generation::V2 => 2,
    }
}
