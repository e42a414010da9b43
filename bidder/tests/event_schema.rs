//! The event schema is stated three times: in code (`bidder::events::schema`), in
//! `docs/events.md`, and in the Glue table (`terraform/modules/analytics/
//! event_columns.json`). This keeps them equal, field for field and type for type.

use std::path::Path;

use bidder::events::schema::FIELDS;

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
