//! Writing JSON text by hand into an output buffer (the response and the native
//! markup are assembled without an intermediate document): strings escaped by
//! `sonic-rs`.

/// Appends `text` as a JSON string, escaped.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    sonic_rs::to_writer(&mut *out, text).expect("writing a string into a Vec cannot fail");
}

/// Appends `items` as a JSON array of strings.
pub(crate) fn write_str_list(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_str(out, item);
    }
    out.push(b']');
}
