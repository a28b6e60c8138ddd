//! The reference's defaults that servers, clients, codecs and transports share, so each
//! number has one home.

/// The secret of the reference CLI and JS client when none is given.
pub const DEFAULT_SECRET: &str = "wslink-secret";

/// The chunk size the reference server uses and announces as `maxMsgSize`
/// (`WSLINK_MAX_MSG_SIZE`, 4 MiB).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 4 << 20;

/// What a WebSocket message may carry beyond the announced chunk size
/// (`WSLINK_MSG_OVERHEAD`, 4096 bytes): the server accepts messages of up to
/// [`DEFAULT_MAX_FRAME_SIZE`] plus this.
pub const MESSAGE_OVERHEAD: usize = 4096;

/// The chunk size the JS client uses until the hello reply announces the server's
/// (512 KiB).
pub const CLIENT_PRE_HELLO_FRAME_SIZE: usize = 512 << 10;
