//! [`DynCodec`]: a [`Codec`] behind a trait object, for servers and clients that pick
//! their codec at run time.

use super::{Codec, CodecError, DecodeLimits, Decoder, Encoded, Generation};
use crate::Message;

/// What servers and clients need of a codec, object-safe: every [`Codec`] is one, with
/// its decoder boxed.
///
/// ```
/// use wslink_core::codec::DynCodec;
/// use wslink_core::Generation;
///
/// fn generations(codecs: &[Box<dyn DynCodec>]) -> Vec<Generation> {
///     codecs.iter().map(|c| c.generation()).collect()
/// }
/// assert!(generations(&[]).is_empty());
/// ```
pub trait DynCodec: Send + Sync + 'static {
    /// See [`Codec::generation`].
    fn generation(&self) -> Generation;
    /// See [`Codec::encode`].
    fn encode(&self, message: &Message, max_frame_size: usize) -> Result<Encoded, CodecError>;
    /// See [`Codec::decoder`].
    fn decoder(&self, limits: DecodeLimits) -> Box<dyn Decoder>;
}

impl<C: Codec> DynCodec for C {
    fn generation(&self) -> Generation {
        Codec::generation(self)
    }

    fn encode(&self, message: &Message, max_frame_size: usize) -> Result<Encoded, CodecError> {
        Codec::encode(self, message, max_frame_size)
    }

    fn decoder(&self, limits: DecodeLimits) -> Box<dyn Decoder> {
        Box::new(Codec::decoder(self, limits))
    }
}
