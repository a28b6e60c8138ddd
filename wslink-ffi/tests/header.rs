//! The committed C header is what cbindgen makes of the crate now: a change to the ABI
//! without regenerating `include/wslink.h` fails here. To regenerate it, run this test
//! with `WSLINK_FFI_WRITE_HEADER=1`.

use std::path::PathBuf;

#[test]
fn committed_header_is_current() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = crate_dir.join("include/wslink.h");
    if std::env::var_os("WSLINK_FFI_WRITE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/wslink.h");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/wslink.h is out of date: run `WSLINK_FFI_WRITE_HEADER=1 cargo test -p wslink-ffi --test header`"
    );
}
