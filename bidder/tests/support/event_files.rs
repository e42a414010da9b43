//! Reading back what the event file sink left on disk, line by line: whole event
//! lines, distinct events and torn pieces, for the tests that stop the disk mid-write.

use std::collections::HashSet;

/// What the file sink left in a directory.
pub struct Written {
    /// Files in the directory.
    pub files: usize,
    /// Whole event lines.
    pub lines: usize,
    /// The distinct request ids of those lines.
    pub ids: HashSet<String>,
    /// Pieces that are not a whole event line, with the file each is in.
    pub torn: Vec<String>,
}

impl Written {
    /// Reads every file of `dir`.
    pub fn read(dir: &std::path::Path) -> Written {
        let mut written = Written {
            files: 0,
            lines: 0,
            ids: HashSet::new(),
            torn: Vec::new(),
        };
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            written.files += 1;
            for piece in text.split_inclusive('\n') {
                let event = piece
                    .strip_suffix('\n')
                    .and_then(|line| serde_json::from_str::<serde_json::Value>(line).ok());
                match event.as_ref().and_then(|e| e["request_id"].as_str()) {
                    Some(id) => {
                        written.lines += 1;
                        written.ids.insert(id.to_owned());
                    }
                    None => written.torn.push(format!("{name}: {piece:?}")),
                }
            }
        }
        written
    }
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files hold {} whole lines of {} distinct events and {} torn pieces: {:?}",
            self.files,
            self.lines,
            self.ids.len(),
            self.torn.len(),
            self.torn
                .iter()
                .map(|t| t.chars().take(120).collect::<String>())
                .collect::<Vec<_>>()
        )
    }
}
