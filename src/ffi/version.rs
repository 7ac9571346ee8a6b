//! The library version, for `dlopen` users who cannot see the header macros.

use std::ffi::c_char;

/// The version of the loaded library, `"MAJOR.MINOR.PATCH"`; compare with
/// `WEFT_VERSION_STRING` from the header you compiled against.
///
/// **Ownership**: a static string; never free it.
/// **Thread safety**: callable from any thread.
#[no_mangle]
pub extern "C" fn weft_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
