//! The IAB/ABC Spiders & Bots two-pass rules and file format.

use super::*;

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// An IAB list from file texts (as the operator would upload them, Latin-1 bytes).
fn iab(include: &[u8], exclude: &[u8]) -> BotPatterns {
    let list = IabList::parse(include, exclude).expect("valid IAB files");
    BotPatterns::compile(&[], Some(&list)).expect("compiles")
}

fn line_error(
    result: Result<impl std::fmt::Debug, ListError>,
) -> (ListKind, usize, IabLineProblem) {
    match result {
        Err(ListError::IabLine {
            kind,
            line,
            problem,
        }) => (kind, line, problem),
        other => panic!("expected a line error, got {other:?}"),
    }
}

/// A user agent containing no include pattern is invalid; one containing one is valid.
#[test]
fn include_list_is_the_list_of_valid_browsers() {
    let bots = iab(b"mozilla|1|0|\nroku|1|0|\n", b"");
    assert!(!bots.is_bot(BROWSER));
    assert!(!bots.is_bot("Roku/DVP-12.5 (12.5.0.4178-C4)"));
    assert!(bots.is_bot("curl/8.4.0"));
    assert!(bots.is_bot(""));
}

/// An exclude match flags the agent unless it contains one of that record's
/// exceptions; identical patterns keep their own exceptions.
#[test]
fn exclude_matches_flag_unless_an_exception_cancels() {
    let bots = iab(b"mozilla|1|0|\n", b"bot|1|cubot, robotics|0|2|0|\n");
    assert!(bots.is_bot("Mozilla/5.0 (compatible; FooBot/1.0)"));
    assert!(!bots.is_bot("Mozilla/5.0 (Linux; Android 10; CUBOT X30) Chrome/131.0"));
    assert!(!bots.is_bot("Mozilla/5.0 Robotics-Lab-Kiosk"));
    assert!(!bots.is_bot(BROWSER));

    let twice = iab(b"mozilla|1|0|\n", b"bot|1|cubot|0|2|0|\nBOT|1||0|1|0|\n");
    assert!(
        twice.is_bot("Mozilla/5.0 (Linux; Android 10; CUBOT X30)"),
        "second record has no exception"
    );
}

/// `start_of_string` records match only at the very beginning.
#[test]
fn start_of_string_matches_only_a_prefix() {
    let bots = iab(b"mozilla|1|1|\n", b"java|1||0|2|1|\n");
    assert!(!bots.is_bot("Mozilla/5.0 (X11; Linux x86_64)"));
    assert!(
        bots.is_bot("xMozilla/5.0 (X11; Linux x86_64)"),
        "include only as prefix"
    );
    assert!(
        !bots.is_bot("Mozilla/5.0 Java/1.8 applet"),
        "exclude only as prefix"
    );
    let java_first = iab(b"mozilla|1|0|\n", b"java|1||0|2|1|\n");
    assert!(java_first.is_bot("Java/1.8 Mozilla"));
}

/// Records with `active = 0` are ignored in both files.
#[test]
fn inactive_records_are_ignored() {
    let bots = iab(
        b"mozilla|1|0|\ncurl|0|0|01/15/2020\n",
        b"spider|0||0|2|0|03/01/2021\n",
    );
    assert!(
        bots.is_bot("curl/8.4.0"),
        "inactive include does not validate"
    );
    assert!(
        !bots.is_bot("Mozilla/5.0 spider"),
        "inactive exclude does not flag"
    );
    assert_eq!(bots.stats().iab_include_active, 1);
    assert_eq!(bots.stats().iab_exclude_active, 0);
}

/// Patterns and exceptions compare without regard to case.
#[test]
fn matching_is_case_insensitive() {
    let bots = iab(b"MoZiLLa|1|1|\n", b"CRAWLER|1|GoodCrawler|0|2|0|\n");
    assert!(!bots.is_bot("MOZILLA/5.0"));
    assert!(!bots.is_bot("mozilla/5.0"));
    assert!(bots.is_bot("mozilla/5.0 crawler"));
    assert!(!bots.is_bot("mozilla/5.0 GOODCRAWLER"));
}

/// A Latin-1 byte is decoded to its code point and compared case-insensitively
/// against the UTF-8 user agent, in patterns and exceptions alike.
#[test]
fn iso_8859_1_bytes_are_code_points() {
    let include = b"mozilla|1|0|\n\xC9clair|1|1|\n";
    let exclude = b"r\xE9colte|1|gar\xC7on|0|2|0|\n";
    let list = IabList::parse(include, exclude).expect("parses");
    assert_eq!(list.include()[1].pattern, "Éclair");
    assert_eq!(list.exclude()[0].pattern, "récolte");
    assert_eq!(list.exclude()[0].exceptions, vec!["garÇon".to_owned()]);
    let bots = BotPatterns::compile(&[], Some(&list)).expect("compiles");
    assert!(
        !bots.is_bot("éclair/2.0"),
        "lowercase é matches É at the start"
    );
    assert!(bots.is_bot("xÉclair/2.0"), "prefix only");
    assert!(bots.is_bot("Mozilla/5.0 RÉCOLTE"));
    assert!(!bots.is_bot("Mozilla/5.0 recolte"), "e is not é");
    assert!(
        !bots.is_bot("Mozilla/5.0 RÉCOLTE Garçon"),
        "non-ASCII exception cancels"
    );
}

/// Comments, blank lines, CRLF, surrounding whitespace, trailing fields and a missing
/// date are all tolerated; the parsed records keep every field.
#[test]
fn lenient_about_layout() {
    let include = b"# IAB include\r\n\r\n  # indented comment\r\nmozilla|1|1|   \r\nopera|1|0\r\nroku| 1 | 0 |12/31/2023|extra\r\n";
    let records = IabList::parse_include(include).expect("parses");
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[2],
        IabInclude {
            pattern: "roku".to_owned(),
            active: true,
            start_of_string: false,
            inactive_date: Some(IabDate {
                year: 2023,
                month: 12,
                day: 31
            }),
        }
    );
    let exclude = b"bot|1| a, b ,,|0|1|0|\nspider|1||x|0|1|01/02/2024|more|fields\n";
    let records = IabList::parse_exclude(exclude).expect("parses");
    assert_eq!(records[0].exceptions, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(records[0].primary_impact, IabImpact::Ad);
    assert_eq!(records[1].primary_impact, IabImpact::Page);
    assert_eq!(records[1].additional_flag, "x");
    assert!(records[1].start_of_string);
}

/// Each malformed line is refused with its 1-based line number and the reason.
#[test]
fn malformed_lines_are_refused_with_line_numbers() {
    let (kind, line, problem) = line_error(IabList::parse_include(b"# c\n\nmozilla|1\n"));
    assert_eq!((kind, line), (ListKind::IabInclude, 3));
    assert_eq!(problem, IabLineProblem::FieldCount { min: 3, found: 2 });

    let (_, line, problem) = line_error(IabList::parse_include(b"a|1|0|\nb|2|0|\n"));
    assert_eq!(line, 2);
    assert_eq!(
        problem,
        IabLineProblem::Flag {
            field: "active",
            value: "2".to_owned()
        }
    );

    let (_, _, problem) = line_error(IabList::parse_include(b"a|1|yes|\n"));
    assert_eq!(
        problem,
        IabLineProblem::Flag {
            field: "start_of_string",
            value: "yes".to_owned()
        }
    );

    for date in [
        "13/01/2024",
        "2024-01-01",
        "1/1/24",
        "01/32/2024",
        "01/01/2024/1",
    ] {
        let text = format!("a|1|0|{date}\n");
        let (_, _, problem) = line_error(IabList::parse_include(text.as_bytes()));
        assert_eq!(
            problem,
            IabLineProblem::Date {
                value: date.to_owned()
            },
            "{date}"
        );
    }

    let (_, line, problem) = line_error(IabList::parse_include(b"a|1|0|\n  |1|0|\n"));
    assert_eq!((line, problem), (2, IabLineProblem::EmptyPattern));

    let (kind, line, problem) =
        line_error(IabList::parse_exclude(b"bot|1||0|2|0|\nbot|1||0|3|0|\n"));
    assert_eq!((kind, line), (ListKind::IabExclude, 2));
    assert_eq!(
        problem,
        IabLineProblem::Impact {
            value: "3".to_owned()
        }
    );

    let (_, _, problem) = line_error(IabList::parse_exclude(b"bot|1|x|0|2\n"));
    assert_eq!(problem, IabLineProblem::FieldCount { min: 6, found: 5 });

    let err = IabList::parse_include(b"x\n").expect_err("refused");
    assert_eq!(
        err.to_string(),
        "IAB include list line 1: expected at least 3 `|`-separated fields, found 1"
    );
}

/// An include file with no active record would flag everything: refused.
#[test]
fn include_list_without_active_records_is_refused() {
    assert!(matches!(
        IabList::parse(b"mozilla|0|0|\n", b""),
        Err(ListError::IabNoActiveInclude)
    ));
    assert!(matches!(
        IabList::parse(b"# empty\n", b""),
        Err(ListError::IabNoActiveInclude)
    ));
}

/// With both lists loaded, a crawler match or an IAB failure flags the agent; without
/// an IAB list only the crawler list applies.
#[test]
fn both_lists_combine() {
    let crawler = vec![r"Googlebot\/".to_owned()];
    let list = IabList::parse(b"mozilla|1|0|\n", b"spider|1||0|2|0|\n").expect("parses");
    let both = BotPatterns::compile(&crawler, Some(&list)).expect("compiles");
    assert!(both.is_bot("Mozilla/5.0 (compatible; Googlebot/2.1)"));
    assert!(both.is_bot("Mozilla/5.0 spider"));
    assert!(both.is_bot("Roku/DVP-12.5"));
    assert!(!both.is_bot(BROWSER));
    assert_eq!(both.pattern_count(), 3);

    let crawler_only = BotPatterns::compile(&crawler, None).expect("compiles");
    assert!(!crawler_only.is_bot("Roku/DVP-12.5"));
    assert!(!crawler_only.is_bot("Mozilla/5.0 spider"));
    assert_eq!(crawler_only.pattern_count(), 1);
}
