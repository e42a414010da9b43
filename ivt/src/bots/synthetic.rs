//! Synthetic bot lists for benches and scale tests.
//!
//! The real crawler list has about 1,500 patterns; the bid path must stay fast at
//! 10,000. These generate a list of any size with the real list's mix: mostly escaped
//! literals, plus anchored, class, digit-run and alternation patterns that need
//! confirmation by a regex.

/// `n` distinct crawler-style regex patterns; pattern `i` matches
/// [`synthetic_bot_user_agent`]`(i)` and, by construction, no browser user agent.
///
/// By `i % 100`: 80 % pure literals `SyntheticBot{i}\/`; 10 % literal alternations
/// `(synth-crawler|SynthCrawler)-{i}\.example`; and 10 % that need regex
/// confirmation: 5 % anchored `^SynthAgent{i} `, 4 % classes
/// `[sS]ynth[sS]pider{i}[^0-9]`, 1 % digit runs `SynthFetch{i}\/\d+\.\d+`. That is
/// eight times the bundled list's share of confirmed patterns (20 of 1,500), so
/// benches err on the slow side; Unicode `\d` is the costliest pattern to compile
/// (about 10 ms each in a debug build), hence its small share.
#[doc(hidden)]
pub fn synthetic_patterns(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 100 {
            80..=89 => format!(r"(synth-crawler|SynthCrawler)-{i}\.example"),
            90..=94 => format!("^SynthAgent{i} "),
            95..=98 => format!("[sS]ynth[sS]pider{i}[^0-9]"),
            99 => format!(r"SynthFetch{i}\/\d+\.\d+"),
            _ => format!(r"SyntheticBot{i}\/"),
        })
        .collect()
}

/// A user agent that [`synthetic_patterns`] pattern `i` matches.
#[doc(hidden)]
pub fn synthetic_bot_user_agent(i: usize) -> String {
    match i % 100 {
        80..=89 => format!("Mozilla/5.0 (compatible; synth-crawler-{i}.example)"),
        90..=94 => format!("SynthAgent{i} (+https://synthetic.example/bot)"),
        95..=98 => format!("Mozilla/5.0 (compatible; SynthSpider{i}; +https://synthetic.example)"),
        99 => format!("SynthFetch{i}/2.17 (linux)"),
        _ => {
            format!("Mozilla/5.0 (compatible; SyntheticBot{i}/1.0; +https://synthetic.example/bot)")
        }
    }
}
