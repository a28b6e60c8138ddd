//! wslink for Rust: RPC and publish/subscribe over WebSockets, wire-compatible with the
//! wslink peers used by ParaView Web, VTK and trame.
//!
//! This facade re-exports the workspace's crates behind features.
pub use wslink_core as core;
pub use wslink_core::*;

/// The 2.x msgpack codec (feature `msgpack`).
#[cfg(feature = "msgpack")]
pub use wslink_codec_msgpack as msgpack;
