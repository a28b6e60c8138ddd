//! [`Encoded`]: the frames of one encoded message, and [`FrameRef`], one of them borrowed.
//!
//! Most messages are one [`Frame`]. A message larger than the frame limit is several, to
//! be sent in order with nothing in between. A message that carries a large binary value
//! is made of [`BinaryParts`] frames, so that the value is sent from its own buffer.
//! All three are cheap to clone: a publication is encoded once and shared by every
//! connection it goes to.

use std::sync::Arc;

use super::{BinaryParts, Frame};

/// The frames of one encoded message, cheap to clone and share between connections.
#[derive(Debug, Clone)]
pub enum Encoded {
    /// A message that fits one frame (the common case, no extra allocation).
    One(Frame),
    /// A message split into several frames, to be sent in this order, without other
    /// frames in between.
    Many(Arc<[Frame]>),
    /// Binary frames made of several buffers each (a message with large binary values,
    /// which are not copied), to be sent in this order, without other frames in between.
    Parts(Arc<[BinaryParts]>),
}

/// One frame of an [`Encoded`] message, borrowed: see [`Encoded::iter`].
#[derive(Debug, Clone, Copy)]
pub enum FrameRef<'a> {
    /// A frame in one buffer.
    Frame(&'a Frame),
    /// A binary frame made of several buffers.
    Parts(&'a BinaryParts),
}

impl FrameRef<'_> {
    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            FrameRef::Frame(f) => f.len(),
            FrameRef::Parts(p) => p.len(),
        }
    }

    /// `true` for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame in one buffer (a copy for [`FrameRef::Parts`] of more than one part).
    pub fn to_frame(&self) -> Frame {
        match self {
            FrameRef::Frame(f) => (*f).clone(),
            FrameRef::Parts(p) => Frame::Binary(p.concat()),
        }
    }
}

impl Encoded {
    /// The frames in sending order, borrowed.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = FrameRef<'_>> + '_ {
        let (frames, parts): (&[Frame], &[BinaryParts]) = match self {
            Encoded::One(f) => (std::slice::from_ref(f), &[]),
            Encoded::Many(fs) => (fs, &[]),
            Encoded::Parts(ps) => (&[], ps),
        };
        // One of the two is empty: chained, they are still an exact-size iterator.
        Frames { frames, parts }
    }

    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.iter().len()
    }

    /// The frames in sending order, each in one buffer: frames made of several parts
    /// are concatenated (a copy). For tests and transports that cannot write parts; a
    /// writer uses [`FrameSink::feed_encoded`](crate::FrameSink::feed_encoded) instead.
    pub fn to_frames(&self) -> Vec<Frame> {
        self.iter().map(|f| f.to_frame()).collect()
    }

    /// Total payload bytes of all frames.
    pub fn len(&self) -> usize {
        self.iter().map(|f| f.len()).sum()
    }

    /// `true` when there is no payload at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<Frame>> for Encoded {
    fn from(mut frames: Vec<Frame>) -> Self {
        if frames.len() == 1 {
            Encoded::One(frames.pop().expect("one frame"))
        } else {
            Encoded::Many(frames.into())
        }
    }
}

impl From<Vec<BinaryParts>> for Encoded {
    fn from(frames: Vec<BinaryParts>) -> Self {
        Encoded::Parts(frames.into())
    }
}

/// The iterator of [`Encoded::iter`]: whole frames or parted frames (one kind is empty).
struct Frames<'a> {
    frames: &'a [Frame],
    parts: &'a [BinaryParts],
}

impl<'a> Iterator for Frames<'a> {
    type Item = FrameRef<'a>;

    fn next(&mut self) -> Option<FrameRef<'a>> {
        if let Some((first, rest)) = self.frames.split_first() {
            self.frames = rest;
            return Some(FrameRef::Frame(first));
        }
        let (first, rest) = self.parts.split_first()?;
        self.parts = rest;
        Some(FrameRef::Parts(first))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.frames.len() + self.parts.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Frames<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn parts_frames_are_listed_and_concatenated_in_order() {
        let frames: Vec<BinaryParts> = vec![
            [Bytes::from_static(b"ab"), Bytes::from_static(b"c")]
                .into_iter()
                .collect(),
            std::iter::once(Bytes::from_static(b"de")).collect(),
        ];
        let encoded = Encoded::from(frames);
        assert_eq!((encoded.frame_count(), encoded.len()), (2, 5));
        assert_eq!(
            encoded.to_frames(),
            vec![
                Frame::Binary(Bytes::from_static(b"abc")),
                Frame::Binary(Bytes::from_static(b"de"))
            ]
        );
    }

    #[test]
    fn whole_frames_are_listed_as_they_are() {
        let one = Encoded::One(Frame::Text("x".into()));
        assert_eq!(one.to_frames(), vec![Frame::Text("x".into())]);
        let many = Encoded::from(vec![Frame::Text("a".into()), Frame::Text("bc".into())]);
        assert_eq!((many.frame_count(), many.len()), (2, 3));
    }
}
