//! The one place the tool names the test protocol (the methods its phases call, and the
//! bytes `test.bytes` answers with, which the raw baseline reproduces).

pub(crate) use wslink_test_protocol::{pattern_bytes, router};
