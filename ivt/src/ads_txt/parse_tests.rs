//! Tests of the ads.txt parser, against the examples and rules of IAB Tech Lab
//! ads.txt 1.1.

use super::*;

fn parse(text: &str) -> AdsTxt {
    AdsTxt::parse(text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn record(
    domain: &str,
    account: &str,
    relationship: Relationship,
    cert: Option<&str>,
) -> (String, String, Relationship, Option<String>) {
    (
        domain.to_owned(),
        account.to_owned(),
        relationship,
        cert.map(str::to_owned),
    )
}

fn records(file: &AdsTxt) -> Vec<(String, String, Relationship, Option<String>)> {
    file.records()
        .iter()
        .map(|r| {
            (
                r.ad_system_domain.clone(),
                r.account_id.clone(),
                r.relationship,
                r.certification_authority_id.clone(),
            )
        })
        .collect()
}

/// §4.1 and §4.2: one record, with and without a certification authority id.
#[test]
fn spec_single_system_examples() {
    let direct = parse("greenadexchange.com, XF7342, DIRECT, 5jyxf8k54 ");
    assert_eq!(
        records(&direct),
        [record(
            "greenadexchange.com",
            "XF7342",
            Relationship::Direct,
            Some("5jyxf8k54")
        )]
    );
    let reseller = parse("redssp.com, 57013, RESELLER");
    assert_eq!(
        records(&reseller),
        [record("redssp.com", "57013", Relationship::Reseller, None)]
    );
}

/// §4.3: several systems and resellers after a comment line.
#[test]
fn spec_multiple_systems_example() {
    let file = parse(
        "# ads.txt file for example.com: \n\
         greenadexchange.com, 12345, DIRECT, d75815a79 \n\
         silverssp.com, 9675, RESELLER, f496211 \n\
         blueadexchange.com, XF436, DIRECT \n\
         orangeexchange.com, 45678, RESELLER \n\
         silverssp.com, ABE679, RESELLER\n",
    );
    assert_eq!(
        records(&file),
        [
            record(
                "greenadexchange.com",
                "12345",
                Relationship::Direct,
                Some("d75815a79")
            ),
            record(
                "silverssp.com",
                "9675",
                Relationship::Reseller,
                Some("f496211")
            ),
            record("blueadexchange.com", "XF436", Relationship::Direct, None),
            record("orangeexchange.com", "45678", Relationship::Reseller, None),
            record("silverssp.com", "ABE679", Relationship::Reseller, None),
        ]
    );
    assert_eq!(
        file.records().iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6]
    );
    assert!(file.variables().is_empty() && file.skipped().is_empty());
}

/// §4.4, §4.5, §4.7, §4.8: variables of any case, repeated, kept in order;
/// MANAGERDOMAIN's comma stays in the value; unknown names are kept.
#[test]
fn spec_variable_examples() {
    let file = parse(
        "OWNERDOMAIN=mediacompany.com \n\
         MANAGERDOMAIN=yellowmediamanager.com, FR \n\
         greenadexchange.com, 12345, DIRECT, d75815a79 \n\
         contact=adops@example.com \n\
         contact=http://example.com/contact-us\n\
         subdomain=divisionone.example.com\n\
         InventoryPartnerDomain = programmerA.com # partner\n\
         lastupdated=2024-01-01\n",
    );
    let variables: Vec<_> = file
        .variables()
        .iter()
        .map(|v| (v.line, v.name.clone(), v.value.as_str()))
        .collect();
    assert_eq!(
        variables,
        [
            (1, VariableName::OwnerDomain, "mediacompany.com"),
            (2, VariableName::ManagerDomain, "yellowmediamanager.com, FR"),
            (4, VariableName::Contact, "adops@example.com"),
            (5, VariableName::Contact, "http://example.com/contact-us"),
            (6, VariableName::Subdomain, "divisionone.example.com"),
            (7, VariableName::InventoryPartnerDomain, "programmerA.com"),
            (
                8,
                VariableName::Other("lastupdated".to_owned()),
                "2024-01-01"
            ),
        ]
    );
    assert_eq!(file.records().len(), 1);
}

/// §3.4.1 comments anywhere on a line, §3.4.3 extensions after `;`, field
/// whitespace (tabs included) ignored, relationship in any case (§3.3), domain
/// lowercased, account id kept as written.
#[test]
fn comments_extensions_whitespace_and_case() {
    let file = parse(
        "\t# header\n\
         \tGoogle.COM ,\tpub-ABC123 , direct , f08c47fec0942fa0 # banner, video\n\
         ssp.example, 7, Reseller ; sub=1, foo # note\n\
         ssp.example, 8, RESELLER,;\n\
         ssp.example, 9, rEsElLeR, , extra-field\n",
    );
    assert_eq!(
        records(&file),
        [
            record(
                "google.com",
                "pub-ABC123",
                Relationship::Direct,
                Some("f08c47fec0942fa0")
            ),
            record("ssp.example", "7", Relationship::Reseller, None),
            record("ssp.example", "8", Relationship::Reseller, None),
            record("ssp.example", "9", Relationship::Reseller, None),
        ]
    );
    let extensions: Vec<_> = file
        .records()
        .iter()
        .map(|r| r.extension.as_deref())
        .collect();
    assert_eq!(extensions, [None, Some("sub=1, foo"), None, None]);
    assert!(
        file.variables().is_empty(),
        "a record whose extension holds `=` is no variable"
    );
}

/// A UTF-8 BOM is dropped; CRLF, LF and lone CR all end lines (§3.4.2, §5.3),
/// and line numbers count each of them once.
#[test]
fn bom_and_line_endings() {
    let file = parse(
        "\u{feff}a.com, 1, DIRECT\r\nb.com, 2, DIRECT\rc.com, 3, DIRECT\n\r\nbad line\r\nd.com, 4, DIRECT",
    );
    let lines: Vec<_> = file
        .records()
        .iter()
        .map(|r| (r.ad_system_domain.as_str(), r.line))
        .collect();
    assert_eq!(
        lines,
        [("a.com", 1), ("b.com", 2), ("c.com", 3), ("d.com", 6)]
    );
    assert_eq!(
        file.skipped().iter().map(|s| s.line).collect::<Vec<_>>(),
        [5]
    );
}

/// Invalid record lines are skipped with their line number and reason; the
/// valid ones around them are kept.
#[test]
fn invalid_lines_are_skipped_with_line_numbers() {
    let file = parse(
        "good.com, 1, DIRECT\n\
         only.com, 2\n\
         , 3, DIRECT\n\
         http://bad.com, 4, DIRECT\n\
         bad_domain.com, 5, DIRECT\n\
         nodot, 6, DIRECT\n\
         -bad.com, 7, DIRECT\n\
         empty.com, , DIRECT\n\
         space.com, pub 8, DIRECT\n\
         rel.com, 9, PARTNER\n\
         rel.com, 10,\n\
         just some words\n\
         ok.com, 11, RESELLER\n",
    );
    assert_eq!(file.records().len(), 2);
    let skipped: Vec<_> = file
        .skipped()
        .iter()
        .map(|s| (s.line, s.reason.clone()))
        .collect();
    assert_eq!(
        skipped,
        [
            (2, SkipReason::TooFewFields { found: 2 }),
            (3, SkipReason::EmptyAdSystemDomain),
            (4, SkipReason::InvalidAdSystemDomain),
            (5, SkipReason::InvalidAdSystemDomain),
            (6, SkipReason::InvalidAdSystemDomain),
            (7, SkipReason::InvalidAdSystemDomain),
            (8, SkipReason::EmptyAccountId),
            (9, SkipReason::AccountIdHasWhitespace),
            (10, SkipReason::UnknownRelationship("PARTNER".to_owned())),
            (11, SkipReason::UnknownRelationship(String::new())),
            (12, SkipReason::TooFewFields { found: 1 }),
        ]
    );
    assert_eq!(
        file.skipped()[8].to_string(),
        "line 10: relationship \"PARTNER\" is neither DIRECT nor RESELLER"
    );
}

/// Empty, comment-only, variable-only and garbage files are refused; the error
/// names the first skipped line.
#[test]
fn files_without_records_are_refused() {
    for text in [
        "",
        "\u{feff}",
        "\n\r\n  \t\n",
        "# nothing here\n#\n",
        "contact=me@example.com\n",
    ] {
        assert_eq!(
            AdsTxt::parse(text),
            Err(AdsTxtError::NoRecords {
                skipped: 0,
                first_skipped: None
            }),
            "{text:?}"
        );
    }
    let html = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body>Not found, sorry, try again</body></html>\n";
    let error = AdsTxt::parse(html).expect_err("an error page is no ads.txt");
    assert_eq!(
        error,
        AdsTxtError::NoRecords {
            skipped: 3,
            first_skipped: Some(SkippedLine {
                line: 1,
                reason: SkipReason::TooFewFields { found: 1 }
            }),
        }
    );
    assert_eq!(
        error.to_string(),
        "no valid ads.txt record and no placeholder record (IAB ads.txt 1.1 §3.2.1); \
         3 record line(s) skipped, first at line 1: 1 field(s), a record needs domain, account id and relationship"
    );
    let binary = "\u{0}\u{1}\u{2}\u{fffd}\u{fffd}, \u{7f}, ,,,\n";
    assert!(AdsTxt::parse(binary).is_err());
}

/// §3.2.1 / §4.9: the placeholder record makes a valid file that authorises
/// nobody; the record itself is not kept, in any case spelling.
#[test]
fn placeholder_authorises_nobody() {
    let file = parse("# no sellers\nplaceholder.example.com, placeholder, DIRECT, placeholder \n");
    assert!(file.has_placeholder());
    assert!(file.authorizes_nobody());
    assert!(file.records().is_empty());
    let shouted = parse("PLACEHOLDER.EXAMPLE.COM, placeholder, direct, placeholder\nCONTACT=x\n");
    assert!(shouted.authorizes_nobody() && shouted.has_placeholder());
    let mixed =
        parse("placeholder.example.com, placeholder, DIRECT, placeholder\nssp.com, 1, DIRECT\n");
    assert!(mixed.has_placeholder() && !mixed.authorizes_nobody());
    assert_eq!(mixed.records().len(), 1);
}

/// Every field of a long unknown relationship is bounded in the report, and
/// multi-byte text is cut on a character boundary.
#[test]
fn unknown_relationship_text_is_bounded() {
    let long = "é".repeat(40);
    let file = parse(&format!("ok.com, 1, DIRECT\nssp.com, 1, {long}\n"));
    let SkipReason::UnknownRelationship(kept) = &file.skipped()[0].reason else {
        panic!("expected an unknown relationship: {:?}", file.skipped());
    };
    assert_eq!(kept, &"é".repeat(16));
}

/// The synthetic file the benchmarks use parses without skips.
#[test]
fn synthetic_file_parses() {
    let file = parse(&synthetic_ads_txt(250));
    assert_eq!(file.records().len(), 250);
    assert!(file.skipped().is_empty());
    assert_eq!(file.variables().len(), 2);
    assert!(parse(&synthetic_ads_txt(0)).authorizes_nobody());
}
