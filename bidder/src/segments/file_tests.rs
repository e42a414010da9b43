//! One test per rule of the segments file.

use std::io::Write as _;

use super::*;

const DAY_S: u64 = 86_400;

fn parse(line: &str) -> UserSegments {
    match parse_line(line, DAY_S) {
        Ok(Some(user)) => user,
        other => panic!("{line}: {other:?}"),
    }
}

fn refused(line: &str) -> String {
    match parse_line(line, DAY_S) {
        Err(reason) => reason,
        other => panic!("{line} was not refused: {other:?}"),
    }
}

fn segments(user: &UserSegments) -> Vec<(&str, u64)> {
    user.segments
        .iter()
        .map(|(id, t)| (id.as_str(), *t))
        .collect()
}

#[test]
fn ids_take_the_default_ttl_and_objects_their_own() {
    let user = parse(r#"{"buyeruid":"u-123","segments":["auto",{"id":"sports","ttl_s":60}]}"#);
    assert_eq!(user.user, UserKey::of(UserIdKind::Buyeruid, "u-123"));
    assert_eq!(segments(&user), [("auto", DAY_S), ("sports", 60)]);
    let no_ttl = parse(r#"{"buyeruid":"u","segments":[{"id":"news"}]}"#);
    assert_eq!(segments(&no_ttl), [("news", DAY_S)]);
}

#[test]
fn each_identifier_keys_the_user_as_a_request_carrying_it_would() {
    for (member, kind) in [
        ("buyeruid", UserIdKind::Buyeruid),
        ("user_id", UserIdKind::User),
        ("ifa", UserIdKind::Ifa),
    ] {
        let user = parse(&format!(r#"{{"{member}":"id-1","segments":["a"]}}"#));
        assert_eq!(user.user, UserKey::of(kind, "id-1"), "{member}");
    }
    assert_ne!(
        parse(r#"{"buyeruid":"x","segments":[]}"#).user,
        parse(r#"{"ifa":"x","segments":[]}"#).user,
        "the same id as another kind is another user"
    );
    // Escapes are read as JSON says: the same id, the same user.
    assert_eq!(
        parse(r#"{"buyeruid":"u-\u0031","segments":[]}"#).user,
        parse(r#"{"buyeruid":"u-1","segments":[]}"#).user
    );
}

#[test]
fn exactly_one_non_empty_identifier() {
    assert!(refused(r#"{"segments":["a"]}"#).contains("no identifier"));
    let two = refused(r#"{"buyeruid":"a","ifa":"b","segments":["a"]}"#);
    assert!(two.contains("two identifiers (buyeruid and ifa)"), "{two}");
    assert_eq!(
        refused(r#"{"user_id":"","segments":["a"]}"#),
        "user_id is empty"
    );
    let number = refused(r#"{"ifa":5,"segments":["a"]}"#);
    assert!(number.contains("expected a string"), "{number}");
    // `null` is the member left out.
    let user = parse(r#"{"buyeruid":null,"ifa":"d","segments":["a"]}"#);
    assert_eq!(user.user, UserKey::of(UserIdKind::Ifa, "d"));
}

#[test]
fn blank_and_comment_lines_are_skipped() {
    for line in ["", "   ", "\r", "# a comment", "  # indented", "\u{feff}"] {
        assert_eq!(parse_line(line, DAY_S), Ok(None), "{line:?}");
    }
    // A byte order mark and a CRLF ending do not spoil a line.
    let user = parse("\u{feff}{\"buyeruid\":\"u\",\"segments\":[\"a\"]}\r");
    assert_eq!(segments(&user), [("a", DAY_S)]);
}

#[test]
fn segments_are_required_and_may_be_empty() {
    let missing = refused(r#"{"buyeruid":"u"}"#);
    assert!(missing.contains("missing field `segments`"), "{missing}");
    assert!(refused(r#"{"buyeruid":"u","segments":"a"}"#).contains("expected a sequence"));
    let cleared = parse(r#"{"buyeruid":"u","segments":[]}"#);
    assert!(
        cleared.segments.is_empty(),
        "an empty list removes them all"
    );
}

#[test]
fn segment_ids_must_be_segment_text() {
    let longest = "s".repeat(MAX_SEGMENT_ID_BYTES);
    let user = parse(&format!(r#"{{"ifa":"d","segments":["{longest}"]}}"#));
    assert_eq!(user.segments[0].0, longest);
    let too_long = format!(r#"{{"ifa":"d","segments":["{longest}x"]}}"#);
    for bad in [
        too_long.as_str(),
        r#"{"ifa":"d","segments":[""]}"#,
        r#"{"ifa":"d","segments":["two words"]}"#,
        r#"{"ifa":"d","segments":["tab\there"]}"#,
        r#"{"ifa":"d","segments":[{"id":"a\u0000"}]}"#,
    ] {
        let reason = refused(bad);
        assert!(reason.contains("is not a segment id"), "{bad}: {reason}");
    }
    // A long bad id is quoted cut short.
    let reason = refused(&format!(
        r#"{{"ifa":"d","segments":["{}"]}}"#,
        "x".repeat(500)
    ));
    assert!(
        reason.len() < 200 && reason.contains("(500 bytes)"),
        "{reason}"
    );
    assert!(refused(r#"{"ifa":"d","segments":[7]}"#).contains("a segment id or"));
}

#[test]
fn ttls_are_whole_seconds_from_one_to_ten_years() {
    let longest = format!(r#"{{"ifa":"d","segments":[{{"id":"a","ttl_s":{MAX_TTL_S}}}]}}"#);
    assert_eq!(segments(&parse(&longest)), [("a", MAX_TTL_S)]);
    let over = format!(
        r#"{{"ifa":"d","segments":[{{"id":"a","ttl_s":{}}}]}}"#,
        MAX_TTL_S + 1
    );
    for bad in [
        r#"{"ifa":"d","segments":[{"id":"a","ttl_s":0}]}"#,
        over.as_str(),
    ] {
        assert!(refused(bad).contains("ttl_s must be 1 to"), "{bad}");
    }
    for bad in [
        r#"{"ifa":"d","segments":[{"id":"a","ttl_s":-1}]}"#,
        r#"{"ifa":"d","segments":[{"id":"a","ttl_s":1.5}]}"#,
        r#"{"ifa":"d","segments":[{"id":"a","ttl_s":"60"}]}"#,
    ] {
        assert!(refused(bad).contains("u64"), "{bad}");
    }
    // A default out of range refuses the lines that rely on it.
    assert!(parse_line(r#"{"ifa":"d","segments":["a"]}"#, 0).is_err());
}

#[test]
fn segment_objects_have_an_id_and_nothing_unknown() {
    let missing = refused(r#"{"ifa":"d","segments":[{"ttl_s":5}]}"#);
    assert!(missing.contains("missing field `id`"), "{missing}");
    let unknown = refused(r#"{"ifa":"d","segments":[{"id":"a","ttl":5}]}"#);
    assert!(unknown.contains("unknown field `ttl`"), "{unknown}");
    let twice = refused(r#"{"ifa":"d","segments":[{"id":"a","id":"b"}]}"#);
    assert!(twice.contains("duplicate field"), "{twice}");
}

#[test]
fn at_most_256_segments_a_line() {
    let list = |n: usize| {
        let ids: Vec<String> = (0..n).map(|i| format!("\"s{i}\"")).collect();
        format!(r#"{{"ifa":"d","segments":[{}]}}"#, ids.join(","))
    };
    assert_eq!(parse(&list(MAX_SEGMENTS_PER_LINE)).segments.len(), 256);
    assert_eq!(
        refused(&list(MAX_SEGMENTS_PER_LINE + 1)),
        "257 segments: at most 256 a line"
    );
}

#[test]
fn a_repeated_segment_keeps_its_place_and_the_last_ttl() {
    let user = parse(r#"{"ifa":"d","segments":[{"id":"a","ttl_s":5},"b",{"id":"a","ttl_s":9}]}"#);
    assert_eq!(segments(&user), [("a", 9), ("b", DAY_S)]);
}

#[test]
fn unknown_members_are_named() {
    let reason = refused(r#"{"buyeruid":"u","segments":[],"segmnets":[]}"#);
    assert!(reason.starts_with("unknown field `segmnets`"), "{reason}");
    let twice = refused(r#"{"buyeruid":"u","buyeruid":"v","segments":[]}"#);
    assert!(twice.contains("duplicate field `buyeruid`"), "{twice}");
}

#[test]
fn malformed_json_and_other_values_are_refused() {
    let reason = refused(r#"{"buyeruid":"u","segments":["a""#);
    assert!(reason.starts_with("not JSON: "), "{reason}");
    assert!(
        !reason.contains("line 1"),
        "no position but the column: {reason}"
    );
    let array = refused(r#"["u","a"]"#);
    assert!(array.contains("an object like"), "{array}");
}

fn read_all(bytes: &[u8]) -> Vec<LineItem> {
    lines(io::Cursor::new(bytes.to_vec()), DAY_S).collect()
}

#[test]
fn the_reader_numbers_every_line_and_goes_on_after_a_bad_one() {
    let text = "# header\n\n{\"ifa\":\"a\",\"segments\":[\"x\"]}\nnot json\n{\"ifa\":\"b\",\"segments\":[]}";
    let read: Vec<(u64, bool)> = read_all(text.as_bytes())
        .into_iter()
        .map(|item| {
            let (line, result) = item.unwrap();
            (line, result.is_ok())
        })
        .collect();
    assert_eq!(read, [(3, true), (4, false), (5, true)]);
}

#[test]
fn the_reader_refuses_long_and_non_utf8_lines_without_holding_them() {
    let mut text = b"{\"ifa\":\"a\",\"segments\":[\"x\"]}\n".to_vec();
    text.extend(std::iter::repeat_n(b' ', MAX_LINE_BYTES + 10));
    text.extend_from_slice(b"\n\xff\xfe\n{\"ifa\":\"b\",\"segments\":[\"y\"]}\n");
    let read = read_all(&text);
    let reasons: Vec<(u64, Result<&str, &str>)> = read
        .iter()
        .map(|item| {
            let (line, result) = item.as_ref().unwrap();
            let shown = match result {
                Ok(user) => Ok(user.segments[0].0.as_str()),
                Err(reason) => Err(reason.as_str()),
            };
            (*line, shown)
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (1, Ok("x")),
            (2, Err("longer than 65536 bytes")),
            (3, Err("not UTF-8 (byte 1)")),
            (4, Ok("y")),
        ]
    );
}

#[test]
fn gzip_files_are_read_through_and_a_truncated_one_ends_in_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let plain = "{\"ifa\":\"a\",\"segments\":[\"x\"]}\n".repeat(1000);
    let mut zipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    zipped.write_all(plain.as_bytes()).unwrap();
    let zipped = zipped.finish().unwrap();
    let path = dir.path().join("users.jsonl.gz");
    std::fs::write(&path, &zipped).unwrap();
    let read: Vec<_> = lines(open(&path).unwrap(), DAY_S).collect();
    assert_eq!(read.len(), 1000);
    assert!(read.iter().all(|item| matches!(item, Ok((_, Ok(_))))));

    let cut = dir.path().join("cut.jsonl.gz");
    std::fs::write(&cut, &zipped[..zipped.len() / 2]).unwrap();
    let read: Vec<_> = lines(open(&cut).unwrap(), DAY_S).collect();
    assert!(
        matches!(read.last(), Some(Err(_))),
        "ends in the read error"
    );
    assert!(read[..read.len() - 1].iter().all(|item| item.is_ok()));

    // Without the suffix the same bytes are not unzipped: refused lines.
    let named_plain = dir.path().join("users.jsonl");
    std::fs::write(&named_plain, &zipped).unwrap();
    let read: Vec<_> = lines(open(&named_plain).unwrap(), DAY_S).collect();
    assert!(matches!(read.first(), Some(Ok((1, Err(_))))));
}

/// An input that gives `good` and then fails, as a dropped download does.
struct FailingInput(io::Cursor<Vec<u8>>);

impl Read for FailingInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::other("connection reset")),
            n => Ok(n),
        }
    }
}

/// The read error ending the lines of `input`, named `name`.
fn read_error(name: &str, input: impl Read + Send + 'static) -> ReadError {
    let items: Vec<_> = lines(reader(name, input), DAY_S).collect();
    match items.into_iter().last() {
        Some(Err(error)) => error,
        other => panic!("no read error at the end: {other:?}"),
    }
}

#[test]
fn bad_bytes_are_a_content_error_and_a_failed_input_is_not() {
    let text = "{\"ifa\":\"a\",\"segments\":[\"x\"]}\n".repeat(10);
    let mut zipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    zipped.write_all(text.as_bytes()).unwrap();
    let zipped = zipped.finish().unwrap();

    let not_gzip = read_error("a.jsonl.gz", io::Cursor::new(text.clone().into_bytes()));
    assert!(not_gzip.is_content(), "{not_gzip}");
    assert!(not_gzip.to_string().starts_with("corrupt: "), "{not_gzip}");
    let cut = zipped[..zipped.len() - 3].to_vec();
    let truncated = read_error("a.jsonl.gz", io::Cursor::new(cut));
    assert!(truncated.is_content(), "{truncated}");

    // A failing input is transient, under gzip or not.
    let half = zipped[..zipped.len() / 2].to_vec();
    for (name, bytes) in [("a.jsonl.gz", half), ("a.jsonl", text.into_bytes())] {
        let failed = read_error(name, FailingInput(io::Cursor::new(bytes)));
        assert!(!failed.is_content(), "{name}: {failed}");
        assert_eq!(failed.to_string(), "cannot read further: connection reset");
    }
}
