//! `tern-fuzz <target>`: one AFL++ persistent-mode loop over `bidder::fuzzing`'s
//! target of that name (`http`, `bid`, `notice`, `campaigns`, `dynamodb_item`,
//! `redis_reply`). Built and run by `fuzz/run.sh`.

use std::panic::AssertUnwindSafe;

use bidder::fuzzing::{Harness, Target};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = Target::ALL.into_iter().find(|t| t.name() == name) else {
        let names: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
        eprintln!("usage: tern-fuzz <{}>", names.join("|"));
        std::process::exit(2);
    };
    // Built once, before AFL++'s fork server starts: every input runs against the
    // same bidder, as requests do.
    let mut harness = AssertUnwindSafe(Harness::new());
    afl::fuzz!(|data: &[u8]| harness.run(target, data));
}
