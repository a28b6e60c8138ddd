//! JPEG encoding of a rendered frame, with the `jpeg-encoder` crate (pure Rust).

use jpeg_encoder::{ColorType, Encoder, EncodingError};

use super::render::Frame;

/// Encodes `frame` at `quality` (1–100).
pub(crate) fn jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, EncodingError> {
    let mut out = Vec::with_capacity(frame.rgb.len() / 8);
    let encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.encode(&frame.rgb, frame.width, frame.height, ColorType::Rgb)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_becomes_a_jpeg_and_quality_changes_its_size() {
        let mut rgb = Vec::new();
        for i in 0..64 * 48 {
            rgb.extend_from_slice(&[(i % 251) as u8, (i * 7 % 253) as u8, (i * 13 % 255) as u8]);
        }
        let frame = Frame {
            width: 64,
            height: 48,
            rgb,
        };
        let high = jpeg(&frame, 95).unwrap();
        let low = jpeg(&frame, 20).unwrap();
        assert_eq!(&high[..2], &[0xFF, 0xD8], "starts with a JPEG SOI marker");
        assert!(low.len() < high.len());
    }
}
