//! The event schema is stated three times: in code (`bidder::events::schema`), in
//! `docs/events.md`, and in the Glue table (`terraform/modules/analytics/
//! event_columns.json`). This keeps them equal, field for field and type for type;
//! and the queries over it equal between `docs/analytics.md` and the saved queries
//! Terraform creates (`terraform/modules/analytics/queries/*.sql`), with the loss
//! reasons named alike in `bidder report`, the docs and the queries, and the
//! no-bid reasons alike in the engine and the docs.

use std::path::Path;

use bidder::events::schema::FIELDS;
use bidder::report::LOSS_REASONS;

fn repo_file(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn code_fields() -> Vec<(String, String)> {
    FIELDS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

#[test]
fn the_glue_table_columns_match_the_event_schema() {
    let columns: Vec<serde_json::Value> =
        serde_json::from_str(&repo_file("terraform/modules/analytics/event_columns.json")).unwrap();
    let glue: Vec<(String, String)> = columns
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(glue, code_fields());
}

#[test]
fn the_documented_schema_matches_the_event_schema() {
    let doc = repo_file("docs/events.md");
    // The field table: | `name` | type | ... |
    let documented: Vec<(String, String)> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(2)?.to_string()))
        })
        .collect();
    assert_eq!(documented, code_fields());
}

/// The `.sql` files of the analytics module: (file name, text).
fn saved_queries() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../terraform/modules/analytics/queries");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_documented_queries_are_the_saved_queries() {
    let doc = repo_file("docs/analytics.md");
    let mut blocks: Vec<String> = doc
        .split("```sql\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect();
    let queries = saved_queries();
    assert!(queries.len() >= 3, "{queries:?}");
    for (name, text) in &queries {
        let at = blocks.iter().position(|b| b == text);
        assert!(
            at.is_some(),
            "docs/analytics.md does not show queries/{name} as it is:\n{text}"
        );
        blocks.remove(at.unwrap());
        // Terraform takes the description from the first line, and Athena's limit
        // on it is 1,024 characters.
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("-- ") && first.len() < 1_024,
            "{name}: {first}"
        );
        assert!(
            text.contains("FROM events"),
            "{name} reads the events table"
        );
    }
    assert!(
        blocks.is_empty(),
        "queries in docs/analytics.md without a file in queries/: {blocks:#?}"
    );
}

#[test]
fn loss_reasons_are_named_alike_in_the_report_the_docs_and_the_query() {
    let expected: Vec<(String, String)> = LOSS_REASONS
        .iter()
        .map(|(code, name)| (code.to_string(), name.to_string()))
        .collect();
    // docs/events.md: | 102 | lost to higher bid |
    let doc = repo_file("docs/events.md");
    let documented: Vec<(String, String)> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = cells.get(1)?;
            code.parse::<u32>().ok()?;
            Some((code.to_string(), cells.get(2)?.to_string()))
        })
        .collect();
    assert_eq!(documented, expected, "docs/events.md");
    // loss_reasons.sql: WHEN loss_reason = 102 THEN 'lost to higher bid'
    let (_, query) = saved_queries()
        .into_iter()
        .find(|(name, _)| name == "loss_reasons.sql")
        .expect("queries/loss_reasons.sql");
    let named: Vec<(String, String)> = query
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("WHEN loss_reason = ")?;
            let (code, name) = rest.split_once(" THEN '")?;
            Some((code.to_owned(), name.strip_suffix('\'')?.to_owned()))
        })
        .collect();
    assert_eq!(named, expected, "queries/loss_reasons.sql");
}

#[test]
fn the_documented_nobid_reasons_are_the_engines() {
    let docs = repo_file("docs/events.md");
    let row = docs
        .lines()
        .find(|line| line.starts_with("| `nobid_reason` |"))
        .expect("the nobid_reason row");
    let mut documented: Vec<&str> = row.split('`').skip(5).step_by(2).collect();
    let mut labels: Vec<&str> = tern_engine::decision::NoBidReason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    documented.sort_unstable();
    labels.sort_unstable();
    assert_eq!(documented, labels);
}
