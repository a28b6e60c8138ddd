//! The codecs of a server: one per wire generation it speaks.
//!
//! A server may speak 2.x, 1.x, or both on the same endpoint. With both, each connection's
//! generation is decided by its first data frame: binary means 2.x (msgpack chunks), text
//! means 1.x (JSON). A server that speaks only 2.x closes a connection whose *first* frame
//! is text with 1003 and a reason naming the mismatch, instead of leaving a 1.x client
//! waiting forever for its hello reply (the reference logs and ignores it); later text
//! frames are ignored, as the reference does.

use std::sync::Arc;

use wslink_core::codec::DynCodec;
use wslink_core::{Frame, Generation};

/// At most one codec per generation.
#[derive(Clone, Default)]
pub(crate) struct Codecs {
    v1: Option<Arc<dyn DynCodec>>,
    v2: Option<Arc<dyn DynCodec>>,
}

impl std::fmt::Debug for Codecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.generations()).finish()
    }
}

impl Codecs {
    /// Adds `codec`, replacing one of the same generation.
    pub(crate) fn insert(&mut self, codec: impl DynCodec) {
        let codec: Arc<dyn DynCodec> = Arc::new(codec);
        match codec.generation() {
            Generation::V1 => self.v1 = Some(codec),
            Generation::V2 => self.v2 = Some(codec),
        }
    }

    /// Stops speaking `generation`.
    pub(crate) fn remove(&mut self, generation: Generation) {
        match generation {
            Generation::V1 => self.v1 = None,
            Generation::V2 => self.v2 = None,
        }
    }

    /// The codec of `generation`, if the server speaks it.
    pub(crate) fn get(&self, generation: Generation) -> Option<&Arc<dyn DynCodec>> {
        match generation {
            Generation::V1 => self.v1.as_ref(),
            Generation::V2 => self.v2.as_ref(),
        }
    }

    /// The generations spoken, 2.x first.
    pub(crate) fn generations(&self) -> impl Iterator<Item = Generation> + '_ {
        [Generation::V2, Generation::V1]
            .into_iter()
            .filter(|g| self.get(*g).is_some())
    }

    /// The generation a connection speaks, judged from its first frame: `Err` with the
    /// reason when the server cannot speak it.
    pub(crate) fn detect(&self, first: &Frame) -> Result<Generation, &'static str> {
        let wanted = match first {
            Frame::Binary(_) => Generation::V2,
            Frame::Text(_) => Generation::V1,
        };
        if self.get(wanted).is_some() {
            return Ok(wanted);
        }
        match wanted {
            Generation::V1 => Err("wslink 1.x (text frames) is not spoken here: use a 2.x client"),
            Generation::V2 => {
                Err("wslink 2.x (binary frames) is not spoken here: use a 1.x client")
            }
        }
    }

    /// The first generation configured (what a connection is assumed to speak before its
    /// first frame).
    pub(crate) fn preferred(&self) -> Generation {
        self.generations().next().unwrap_or(Generation::V2)
    }
}
