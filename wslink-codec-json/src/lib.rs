//! The wslink 1.x codec (work in progress).
