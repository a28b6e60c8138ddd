//! The compile errors `#[wslink::protocol]` gives, pinned: each case in `ui/` must fail
//! to compile with exactly the message next to it.

#[test]
fn mistakes_are_compile_errors_that_say_what_to_write() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
