//! Every list the screen reads, compiled together from files laid out as in
//! `docs/ivt.md`, the same way from a directory, an S3 prefix or the bundled set:
//!
//! | path | what |
//! | --- | --- |
//! | `bots/*.json` | bot patterns, crawler-user-agents format |
//! | `bots/include_current.txt`, `bots/exclude_current.txt` | IAB/ABC Spiders & Bots |
//! | `ip/datacenter/*`, `ip/blocked/*` | CIDR lists |
//! | `ads.txt/<site domain>[.txt]` | a site's ads.txt |
//! | `app-ads.txt/<app bundle>[.txt]` | an app's app-ads.txt |
//! | `sellers.json/<ad system domain>[.json]` | an ad system's sellers.json |
//! | `model.json` | the scoring model |
//!
//! A set compiles whole or not at all: one bad file refuses it with an error
//! naming the file (and line), so the caller keeps serving its last good set.

use std::path::Path;

use crate::ads_txt::{AdsTxt, AuthorizedSellers};
use crate::bots::{BotPatterns, IabList};
use crate::ip_ranges::{IpRanges, RangeKind};
use crate::model::Model;
use crate::sellers_json::{Sellers, SellersJson};
use crate::supply_chain::SupplyLists;

/// One list file: its path relative to the lists root (`/`-separated) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFile {
    /// e.g. `ads.txt/news.example.txt`.
    pub path: String,
    /// The file's content.
    pub bytes: Vec<u8>,
}

impl ListFile {
    /// A file at `path` (relative to the lists root) holding `bytes`.
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> ListFile {
        ListFile {
            path: path.into(),
            bytes: bytes.into(),
        }
    }
}

/// A list set that cannot be used: the file at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ListError {
    /// The file's path relative to the lists root (or the root itself).
    pub path: String,
    /// What is wrong, with the line when the format has lines.
    pub reason: String,
}

impl ListError {
    fn new(path: &str, reason: impl std::fmt::Display) -> ListError {
        ListError {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// How much a set holds, for logs, `/state` and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListCounts {
    /// Files compiled.
    pub files: usize,
    /// Bot patterns (crawler regexes and IAB records).
    pub bot_patterns: usize,
    /// IP ranges of both kinds.
    pub ip_ranges: usize,
    /// Publishers with an ads.txt or app-ads.txt.
    pub publishers: usize,
    /// Sellers over every sellers.json.
    pub sellers: usize,
    /// ads.txt lines and sellers.json entries skipped as invalid (the formats
    /// say to ignore them; the rest of each file serves).
    pub skipped: usize,
    /// Whether a scoring model is loaded.
    pub model: bool,
}

/// Every list, compiled; immutable (the bidder swaps whole sets).
#[derive(Debug)]
pub struct Lists {
    pub(crate) bots: BotPatterns,
    pub(crate) ip_ranges: IpRanges,
    ads_txt: AuthorizedSellers,
    app_ads_txt: AuthorizedSellers,
    sellers: Sellers,
    model: Option<Model>,
    counts: ListCounts,
}

/// The bundled lists (`ivt/lists/`), compiled in.
const BUNDLED: [(&str, &[u8]); 4] = [
    (
        "bots/crawler-user-agents.json",
        include_bytes!("../lists/bots/crawler-user-agents.json"),
    ),
    (
        "ip/datacenter/sample.txt",
        include_bytes!("../lists/ip/datacenter/sample.txt"),
    ),
    (
        "ip/blocked/sample.txt",
        include_bytes!("../lists/ip/blocked/sample.txt"),
    ),
    ("model.json", include_bytes!("../lists/model.json")),
];

impl Lists {
    /// The bundled files: the crawler-user-agents bot list (MIT), sample IP
    /// ranges and the example model. (No ads.txt or sellers.json: those are the
    /// operator's; `ivt/examples/lists` shows the layout.)
    pub fn bundled_files() -> Vec<ListFile> {
        BUNDLED
            .iter()
            .map(|(path, bytes)| ListFile::new(*path, *bytes))
            .collect()
    }

    /// The bundled lists, compiled.
    pub fn bundled() -> Lists {
        Lists::compile(&Lists::bundled_files()).expect("the bundled lists compile (tested)")
    }

    /// Lists that find nothing: no bot patterns, ranges, files or model.
    pub fn empty() -> Lists {
        Lists::compile(&[]).expect("an empty set compiles")
    }

    /// Compiles a set of files (see the module for the layout). Fails on the
    /// first file that is unreadable, malformed or not in the layout.
    pub fn compile(files: &[ListFile]) -> Result<Lists, ListError> {
        let mut crawler = Vec::new();
        // Each crawler file's path and the position of its first pattern.
        let mut crawler_files: Vec<(&str, usize)> = Vec::new();
        let mut skipped = 0;
        let mut iab_include = None;
        let mut iab_exclude = None;
        let mut ip_ranges = IpRanges::new();
        let mut ads_txt = AuthorizedSellers::new();
        let mut app_ads_txt = AuthorizedSellers::new();
        let mut sellers = Sellers::new();
        let mut model = None;
        for file in files {
            let path = file.path.as_str();
            let fail = |reason: &dyn std::fmt::Display| ListError::new(path, reason);
            let text = || std::str::from_utf8(&file.bytes).map_err(|_| fail(&"not UTF-8"));
            match Kind::of(path).ok_or_else(|| fail(&UNKNOWN_PATH))? {
                Kind::CrawlerPatterns => {
                    crawler_files.push((path, crawler.len()));
                    crawler.extend(
                        crate::bots::parse_crawler_user_agents(text()?).map_err(|e| fail(&e))?,
                    );
                }
                Kind::IabInclude => {
                    iab_include = Some(IabList::parse_include(&file.bytes).map_err(|e| fail(&e))?)
                }
                Kind::IabExclude => {
                    iab_exclude = Some(IabList::parse_exclude(&file.bytes).map_err(|e| fail(&e))?)
                }
                Kind::Ranges(kind) => {
                    ip_ranges.add_file(text()?, kind).map_err(|e| fail(&e))?;
                }
                Kind::AdsTxt(key) | Kind::AppAdsTxt(key) => {
                    let table = if path.starts_with("ads.txt/") {
                        &mut ads_txt
                    } else {
                        &mut app_ads_txt
                    };
                    if table.publisher(key).is_some() {
                        return Err(fail(&format_args!("a second file for `{key}`")));
                    }
                    let file = AdsTxt::parse(text()?).map_err(|e| fail(&e))?;
                    skipped += file.skipped().len();
                    table.insert(key, file);
                }
                Kind::SellersJson(domain) => {
                    if sellers.ad_system(domain).is_some() {
                        return Err(fail(&format_args!("a second file for `{domain}`")));
                    }
                    let file = SellersJson::parse(text()?).map_err(|e| fail(&e))?;
                    skipped += file.skipped().len();
                    sellers.insert(domain, file);
                }
                Kind::Model => model = Some(Model::parse(text()?).map_err(|e| fail(&e))?),
            }
        }
        let iab = match (iab_include, iab_exclude) {
            (None, None) => None,
            (Some(include), Some(exclude)) => {
                Some(IabList::new(include, exclude).map_err(|e| ListError::new("bots", e))?)
            }
            (None, Some(_)) | (Some(_), None) => {
                return Err(ListError::new(
                    "bots",
                    "the IAB/ABC list needs both include_current.txt and exclude_current.txt",
                ));
            }
        };
        let bots = BotPatterns::compile(&crawler, iab.as_ref()).map_err(|e| {
            // A bad pattern is named by its file (the index counts across files).
            let file = match &e {
                crate::bots::ListError::BadPattern { index, .. } => crawler_files
                    .iter()
                    .rev()
                    .find(|(_, first)| first <= index)
                    .map(|(path, _)| *path),
                _ => None,
            };
            ListError::new(file.unwrap_or("bots"), e)
        })?;
        let counts = ListCounts {
            files: files.len(),
            bot_patterns: bots.pattern_count(),
            ip_ranges: ip_ranges.len(),
            publishers: ads_txt.len() + app_ads_txt.len(),
            sellers: sellers.len(),
            skipped,
            model: model.is_some(),
        };
        Ok(Lists {
            bots,
            ip_ranges,
            ads_txt,
            app_ads_txt,
            sellers,
            model,
            counts,
        })
    }

    /// Reads every file under `dir` (recursively; hidden files, `README*` and
    /// licence files skipped), with paths relative to it.
    pub fn read_dir(dir: &Path) -> Result<Vec<ListFile>, ListError> {
        let mut files = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        let root = dir.display().to_string();
        while let Some(at) = pending.pop() {
            let entries = std::fs::read_dir(&at).map_err(|e| ListError::new(&root, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| ListError::new(&root, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.')
                    || name.starts_with("README")
                    || name.starts_with("LICENSE")
                    || name.ends_with(".LICENSE")
                {
                    continue;
                }
                let path = entry.path();
                let relative = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let bytes = std::fs::read(&path).map_err(|e| ListError::new(&relative, e))?;
                    files.push(ListFile {
                        path: relative,
                        bytes,
                    });
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// What the set holds.
    pub fn counts(&self) -> ListCounts {
        self.counts
    }

    /// The scoring model, if one is loaded.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    pub(crate) fn supply(&self) -> SupplyLists<'_> {
        SupplyLists {
            ads_txt: &self.ads_txt,
            app_ads_txt: &self.app_ads_txt,
            sellers: &self.sellers,
        }
    }
}

const UNKNOWN_PATH: &str = "not a list path (bots/*.json, bots/include_current.txt, \
    bots/exclude_current.txt, ip/datacenter/*, ip/blocked/*, ads.txt/<domain>, \
    app-ads.txt/<bundle>, sellers.json/<domain>, model.json)";

/// What a path in the layout holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind<'p> {
    CrawlerPatterns,
    IabInclude,
    IabExclude,
    Ranges(RangeKind),
    AdsTxt(&'p str),
    AppAdsTxt(&'p str),
    SellersJson(&'p str),
    Model,
}

impl<'p> Kind<'p> {
    fn of(path: &'p str) -> Option<Kind<'p>> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let named = |suffix: &str| {
            let key = name.strip_suffix(suffix).unwrap_or(name);
            (!key.is_empty()).then_some(key)
        };
        Some(match dir {
            "" if name == "model.json" => Kind::Model,
            "bots" if name == "include_current.txt" => Kind::IabInclude,
            "bots" if name == "exclude_current.txt" => Kind::IabExclude,
            "bots" if name.ends_with(".json") => Kind::CrawlerPatterns,
            "ip/datacenter" => Kind::Ranges(RangeKind::DataCenter),
            "ip/blocked" => Kind::Ranges(RangeKind::Blocked),
            "ads.txt" => Kind::AdsTxt(named(".txt")?),
            "app-ads.txt" => Kind::AppAdsTxt(named(".txt")?),
            "sellers.json" => Kind::SellersJson(named(".json")?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> ListFile {
        ListFile::new(path, text)
    }

    #[test]
    fn paths_name_what_they_hold() {
        assert_eq!(Kind::of("model.json"), Some(Kind::Model));
        assert_eq!(Kind::of("bots/mine.json"), Some(Kind::CrawlerPatterns));
        assert_eq!(Kind::of("bots/include_current.txt"), Some(Kind::IabInclude));
        assert_eq!(Kind::of("bots/exclude_current.txt"), Some(Kind::IabExclude));
        assert_eq!(
            Kind::of("ip/blocked/a.txt"),
            Some(Kind::Ranges(RangeKind::Blocked))
        );
        assert_eq!(
            Kind::of("ads.txt/news.example.txt"),
            Some(Kind::AdsTxt("news.example"))
        );
        assert_eq!(
            Kind::of("ads.txt/news.example"),
            Some(Kind::AdsTxt("news.example"))
        );
        assert_eq!(
            Kind::of("app-ads.txt/com.example.game.txt"),
            Some(Kind::AppAdsTxt("com.example.game"))
        );
        assert_eq!(
            Kind::of("sellers.json/ssp.example.json"),
            Some(Kind::SellersJson("ssp.example"))
        );
        for unknown in [
            "model.toml",
            "bots/list.txt",
            "ip/x.txt",
            "ads.txt/.txt",
            "x/y/z",
        ] {
            assert_eq!(Kind::of(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn the_bundled_set_compiles_and_counts_what_it_holds() {
        let counts = Lists::bundled().counts();
        assert_eq!(counts.files, BUNDLED.len());
        assert_eq!(counts.bot_patterns, 1_500);
        assert_eq!(counts.ip_ranges, 3);
        assert_eq!((counts.publishers, counts.sellers), (0, 0));
        assert!(counts.model);
        assert_eq!(Lists::empty().counts(), ListCounts::default());
    }

    #[test]
    fn one_bad_file_refuses_the_set_naming_it() {
        let good = file("ip/blocked/a.txt", "10.0.0.0/8\n");
        let good = [
            good,
            file("bots/first.json", r#"[{"pattern": "Googlebot"}]"#),
            file("ads.txt/a.example.txt", "x.example, 1, DIRECT\n"),
        ];
        let cases = [
            (
                file("ip/blocked/b.txt", "10.0.0.0/8\nnope\n"),
                "ip/blocked/b.txt",
            ),
            (file("notes.txt", "hello"), "notes.txt"),
            (file("model.json", "{}"), "model.json"),
            (
                file("ads.txt/x.example", "# nothing\n"),
                "ads.txt/x.example",
            ),
            (
                file("sellers.json/x.example", "[]"),
                "sellers.json/x.example",
            ),
            (file("bots/include_current.txt", "Mozilla|1|0|\n"), "bots"),
            (
                ListFile::new("ip/blocked/latin1.txt", vec![0xff, b'\n']),
                "ip/blocked/latin1.txt",
            ),
        ];
        let bad_regex = r#"[{"pattern": "Googlebot"}, {"pattern": "(unclosed"}]"#;
        let cases = cases.into_iter().chain([
            (file("bots/mine.json", bad_regex), "bots/mine.json"),
            (
                file("ads.txt/a.example", "x.example, 1, DIRECT\n"),
                "ads.txt/a.example",
            ),
        ]);
        for (bad, named) in cases {
            let mut files = good.to_vec();
            files.push(bad);
            let err = Lists::compile(&files).unwrap_err();
            assert_eq!(err.path, named, "{err}");
        }
        assert!(Lists::compile(&good).is_ok());
    }

    #[test]
    fn a_directory_is_read_recursively_without_readmes_licences_or_dotfiles() {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in [
            ("ip/blocked/a.txt", "10.0.0.0/8\n"),
            ("bots/README.md", "about"),
            ("bots/crawler-user-agents.LICENSE", "MIT"),
            (".hidden", "x"),
            ("sellers.json/ssp.example.json", "{\"sellers\": []}"),
        ] {
            let at = dir.path().join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, text).unwrap();
        }
        let files = Lists::read_dir(dir.path()).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["ip/blocked/a.txt", "sellers.json/ssp.example.json"]);
        assert!(Lists::compile(&files).is_ok());
    }
}
