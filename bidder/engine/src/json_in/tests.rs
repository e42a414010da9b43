//! The reader against serde_json: the same documents accepted and the same values
//! read (through `serde_json::Value`, which asks for everything); skipping accepts
//! everything serde_json does and checks exactly what `blocks` promises.

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::{RAW_VALUE_TOKEN, from_str};

/// Reads `text` with the reader, as a `Value`.
fn ours(text: &str) -> Result<Value, super::Error> {
    from_str::<Value>(text)
}

/// Skips `text` as one ignored value.
fn skipped(text: &str) -> bool {
    from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// What skipping promises (see `blocks`), byte by byte: a scalar is checked
/// whole, as serde_json checks a value it ignores; an array or object has its
/// strings closed, no control character but whitespace, only JSON's escapes,
/// no backslash outside a string, and balanced brackets — and nothing follows.
fn skip_accepts(text: &str) -> bool {
    let body = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if !body.starts_with(['{', '[']) {
        return serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in body.as_bytes().iter().enumerate() {
        if escaped {
            if !b"\"\\/bfnrtu".contains(&b) {
                return false;
            }
            escaped = false;
        } else if in_string {
            match b {
                b'"' => in_string = false,
                b'\\' => escaped = true,
                0..=0x1F => return false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'\\' => return false,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        let rest = &body[i + 1..];
                        return rest.trim_start_matches([' ', '\t', '\n', '\r']).is_empty();
                    }
                }
                b'\t' | b'\n' | b'\r' => {}
                0..=0x1F => return false,
                _ => {}
            }
        }
    }
    false
}

/// Floats equal, or a few units in the last place apart: serde_json without its
/// `float_roundtrip` feature is not correctly rounded for long mantissas (it
/// reads `9.684147431955199e145` two units off); the reader uses Rust's parser,
/// which is.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() && y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || x.to_bits().abs_diff(y.to_bits()) <= 8
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn check(text: &str) {
    let theirs = serde_json::from_str::<Value>(text);
    let mine = ours(text);
    match (&theirs, &mine) {
        (Ok(a), Ok(b)) => assert!(same(a, b), "{text:?}: serde_json {a:?}, reader {b:?}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{text:?}: serde_json {theirs:?}, reader {mine:?}"),
    }
    // Deeper than the limit is refused before any skipping.
    if !text.contains(&"[".repeat(129)) {
        assert_eq!(skipped(text), skip_accepts(text), "skipping {text:?}");
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        assert!(skipped(text), "skipping {text:?}, which serde_json skips");
    }
}

#[test]
fn agrees_with_serde_json_on_edge_cases() {
    let cases = [
        "{}",
        "[]",
        " { } ",
        "null",
        "true",
        "false",
        "0",
        "-0",
        "1",
        "-1",
        "01",
        "-",
        "1.",
        ".5",
        "1.5",
        "1e5",
        "1E+5",
        "1e-5",
        "1e",
        "1e+",
        "-01",
        "+1",
        "1.5e308",
        "1e309",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "0.1e1",
        "2.0",
        r#""""#,
        r#""a""#,
        r#""\"""#,
        r#""\\""#,
        r#""\/""#,
        r#""\b\f\n\r\t""#,
        r#""\u0041""#,
        r#""\u00e9""#,
        r#""\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        r#""\ud83dx""#,
        r#""\ud83d\u0041""#,
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        "\"a\u{1}b\"",
        "\"tab\there\"",
        "\"é\"",
        r#""unterminated"#,
        r#"{"a":1}"#,
        r#"{"a":1,}"#,
        r#"{"a":1,,"b":2}"#,
        r#"{,"a":1}"#,
        r#"{"a" 1}"#,
        r#"{"a":}"#,
        r#"{1:1}"#,
        r#"{"a":1 "b":2}"#,
        r#"[1,2,]"#,
        r#"[,1]"#,
        r#"[1 2]"#,
        r#"[1,,2]"#,
        r#"[[[]]]"#,
        r#"[{"a":[{"b":null}]}]"#,
        "[1] x",
        "[1] ",
        "nul",
        "nulls",
        "tru",
        "True",
        r#"{"a":"b"}}"#,
        "]",
        "}",
        "",
        " ",
        "\u{feff}{}",
        "{\"a\"\t:\n1\r}",
        r#"{"a":1}{"b":2}"#,
        r#"{"dup":1,"dup":2}"#,
        "[1e1000]",
        "[-1e-1000]",
    ];
    for case in cases {
        check(case);
    }
}

#[test]
fn strings_without_escapes_are_borrowed() {
    #[derive(Deserialize)]
    struct Holder<'a> {
        #[serde(borrow)]
        plain: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        escaped: std::borrow::Cow<'a, str>,
    }
    let held: Holder<'_> = from_str(r#"{"plain":"abc","escaped":"a\nb"}"#).unwrap();
    assert!(matches!(held.plain, std::borrow::Cow::Borrowed("abc")));
    assert_eq!(held.escaped, "a\nb");
}

#[test]
fn raw_values_are_handed_over_as_their_text() {
    struct Raw<'a>(&'a str);
    impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Raw<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("raw text")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Raw<'de>, E> {
                    Ok(Raw(v))
                }
            }
            d.deserialize_newtype_struct(RAW_VALUE_TOKEN, V)
        }
    }
    #[derive(Deserialize)]
    struct Holder<'a> {
        #[serde(borrow)]
        ext: Raw<'a>,
        after: u8,
    }
    let held: Holder<'_> = from_str(r#"{"ext": {"k":[1,"v\"}"]} ,"after":7}"#).unwrap();
    assert_eq!(held.ext.0, r#"{"k":[1,"v\"}"]}"#);
    assert_eq!(held.after, 7);
    assert!(from_str::<Holder<'_>>(r#"{"ext": {"k":[1,}, "after":7}"#).is_err());
}

#[test]
fn a_struct_sent_as_an_array_is_refused() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Pair {
        w: u32,
        h: u32,
    }
    // serde_json reads it positionally; the reader refuses it.
    assert!(serde_json::from_str::<Pair>("[300,250]").is_ok());
    let error = from_str::<Pair>("[300,250]").unwrap_err();
    assert!(
        error.to_string().contains("invalid type: sequence"),
        "{error}"
    );
}

#[test]
fn errors_say_where() {
    let error = ours(r#"{"a":[1,2}"#).unwrap_err();
    assert_eq!(error.to_string(), "expected `,` or `]` at byte 9");
    let error = from_str::<u8>("300").unwrap_err();
    assert!(error.to_string().ends_with("at byte 3"), "{error}");
}

#[test]
fn nesting_past_the_limit_is_refused_before_reading() {
    let deep = "[".repeat(200) + &"]".repeat(200);
    let error = skipped(&deep);
    assert!(!error);
    let error = ours(&deep).unwrap_err();
    assert!(error.to_string().contains("deeper than 128"), "{error}");
    let fine = "[".repeat(128) + &"]".repeat(128);
    assert!(skipped(&fine));
}

/// Any JSON value, as text, with whitespace and escapes mixed in.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "[a-z0-9 é\\\\\"/\t\u{1}]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        "(\\\\u[0-9a-fA-F]{4}|[a-z]){0,4}".prop_map(|s| format!("\"{s}\"")),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z]{0,4}", inner), 0..6).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("{k:?} : {v}"))
                    .collect();
                format!("{{ {} }}", members.join(" ,"))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn reads_what_serde_json_reads(text in json_text()) {
        check(&text);
    }

    #[test]
    fn refuses_what_serde_json_refuses(
        text in json_text(),
        cut in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"{}[],:\"\\ 0-.eE+tfnu\x01x".to_vec()),
        how in 0u8..3,
    ) {
        let mut bytes = text.into_bytes();
        let at = cut.index(bytes.len() + 1);
        match how {
            0 => bytes.truncate(at),
            1 => bytes.insert(at, byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
        if let Ok(text) = String::from_utf8(bytes) {
            check(&text);
        }
    }
}
