//! Every publisher's authorised sellers, compiled for lookups on the bid path.
//!
//! Two levels of `FxHashMap` keyed by 64-bit xxh3 keys (`key.rs`): publisher
//! (domain or bundle id, case-insensitive) → that publisher's (ad system
//! domain, account id) pairs → relationship. A lookup hashes its arguments on
//! the stack and probes each map once: no allocation, no string comparison.
//! The text itself is not kept (a large site's file lists thousands of pairs),
//! so a 64-bit collision between two keys is the only way to a wrong answer.

use rustc_hash::FxHashMap;

use super::{AdsTxt, Relationship, key};

/// All publishers' authorised sellers, keyed by publisher domain (site) or app
/// bundle id — the operator names each file after it.
///
/// Built once off the bid path with [`AuthorizedSellers::insert`], then only
/// read. Keys match whatever their ASCII case.
#[derive(Debug, Default, Clone)]
pub struct AuthorizedSellers {
    publishers: FxHashMap<u64, FxHashMap<u64, Relationship>>,
}

/// One publisher's authorised sellers, borrowed from [`AuthorizedSellers`].
#[derive(Debug, Clone, Copy)]
pub struct PublisherSellers<'a> {
    sellers: &'a FxHashMap<u64, Relationship>,
}

impl AuthorizedSellers {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Files `file` under `publisher` (a site's domain or an app's bundle id,
    /// matched without regard to ASCII case), replacing any file filed under
    /// the same key. The file's variables and skipped lines are not kept.
    pub fn insert(&mut self, publisher: &str, file: AdsTxt) {
        let records = file.records();
        let mut sellers = FxHashMap::with_capacity_and_hasher(records.len(), Default::default());
        for record in records {
            let pair = key::seller_account(&record.ad_system_domain, &record.account_id);
            sellers
                .entry(pair)
                .and_modify(|listed: &mut Relationship| {
                    if record.relationship == Relationship::Direct {
                        *listed = Relationship::Direct;
                    }
                })
                .or_insert(record.relationship);
        }
        sellers.shrink_to_fit();
        self.publishers.insert(key::caseless(publisher), sellers);
    }

    /// The sellers of the publisher filed exactly under `publisher` (ASCII case
    /// ignored). Use this for app bundle ids; `None` if no file was filed.
    pub fn publisher(&self, publisher: &str) -> Option<PublisherSellers<'_>> {
        self.publishers
            .get(&key::caseless(publisher))
            .map(|sellers| PublisherSellers { sellers })
    }

    /// The domain itself, else its parent domains (`a.b.example.com` →
    /// `b.example.com` → `example.com`), as ads.txt is served at the root
    /// domain (ads.txt 1.1 §3.1) and covers subdomains that have no file of
    /// their own (§5.5); stops at 2 labels.
    ///
    /// Without the Public Suffix List the walk cannot tell `example.co.uk` is
    /// the root domain, so it also tries `co.uk`; that only matters if a file
    /// was filed under a public suffix. Use this for site domains.
    pub fn publisher_or_parent(&self, domain: &str) -> Option<PublisherSellers<'_>> {
        let mut candidate = domain;
        loop {
            if let Some(found) = self.publisher(candidate) {
                return Some(found);
            }
            let (_, parent) = candidate.split_once('.')?;
            if !parent.contains('.') {
                return None;
            }
            candidate = parent;
        }
    }

    /// Publishers filed.
    pub fn len(&self) -> usize {
        self.publishers.len()
    }

    /// Whether no publisher is filed.
    pub fn is_empty(&self) -> bool {
        self.publishers.is_empty()
    }
}

impl PublisherSellers<'_> {
    /// How `ad_system_domain` (ASCII case ignored) may sell `account_id`
    /// (exact, case-sensitive: ads.txt 1.1 §3.3 field #2 is the value used in
    /// transactions, and only field #3 is declared case-insensitive) for this
    /// publisher, if at all; [`Relationship::Direct`] if listed both ways.
    pub fn relationship(&self, ad_system_domain: &str, account_id: &str) -> Option<Relationship> {
        self.sellers
            .get(&key::seller_account(ad_system_domain, account_id))
            .copied()
    }

    /// Distinct (ad system, account) pairs authorised.
    pub fn len(&self) -> usize {
        self.sellers.len()
    }

    /// Whether the publisher authorises nobody (its file holds only the
    /// placeholder record, ads.txt 1.1 §3.2.1).
    pub fn is_empty(&self) -> bool {
        self.sellers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ads_txt::synthetic_ads_txt;

    fn table(entries: &[(&str, &str)]) -> AuthorizedSellers {
        let mut sellers = AuthorizedSellers::new();
        for (publisher, text) in entries {
            let file = AdsTxt::parse(text).unwrap_or_else(|e| panic!("{publisher}: {e}"));
            sellers.insert(publisher, file);
        }
        sellers
    }

    /// Ad system domains and publisher keys ignore ASCII case; account ids do not.
    #[test]
    fn lookups_fold_domains_but_not_account_ids() {
        let sellers = table(&[("Example.COM", "GreenAdExchange.com, XF7342, direct\n")]);
        let publisher = sellers.publisher("example.com").expect("publisher filed");
        assert_eq!(
            publisher.relationship("greenadexchange.COM", "XF7342"),
            Some(Relationship::Direct)
        );
        assert_eq!(
            publisher.relationship("greenadexchange.com", "xf7342"),
            None
        );
        assert_eq!(publisher.relationship("greenadexchange.com", "XF734"), None);
        assert_eq!(publisher.relationship("redssp.com", "XF7342"), None);
        assert!(sellers.publisher("EXAMPLE.com").is_some());
        assert!(sellers.publisher("example.org").is_none());
    }

    /// An account listed both DIRECT and RESELLER reads as DIRECT, in either order.
    #[test]
    fn direct_wins_over_reseller() {
        let sellers = table(&[
            ("a.com", "ssp.com, 1, RESELLER\nssp.com, 1, DIRECT\n"),
            ("b.com", "ssp.com, 1, DIRECT\nssp.com, 1, RESELLER\n"),
            ("c.com", "ssp.com, 1, RESELLER\nSSP.com, 1, reseller\n"),
        ]);
        for (publisher, expected) in [
            ("a.com", Relationship::Direct),
            ("b.com", Relationship::Direct),
            ("c.com", Relationship::Reseller),
        ] {
            let found = sellers.publisher(publisher).expect("filed");
            assert_eq!(
                found.relationship("ssp.com", "1"),
                Some(expected),
                "{publisher}"
            );
            assert_eq!(found.len(), 1);
        }
    }

    /// A placeholder-only file is filed, and authorises nobody — not even the
    /// placeholder account itself.
    #[test]
    fn placeholder_file_authorises_nobody() {
        let sellers = table(&[(
            "nothing.example",
            "placeholder.example.com, placeholder, DIRECT, placeholder\n",
        )]);
        let publisher = sellers.publisher("nothing.example").expect("filed");
        assert!(publisher.is_empty());
        assert_eq!(
            publisher.relationship("placeholder.example.com", "placeholder"),
            None
        );
        assert_eq!(sellers.len(), 1);
    }

    /// Subdomains fall back to their parents, nearest first, down to 2 labels.
    #[test]
    fn parent_domain_lookup() {
        let sellers = table(&[
            ("example.com", "root.com, 1, DIRECT\n"),
            ("b.example.com", "sub.com, 2, RESELLER\n"),
            ("com", "tld.com, 3, DIRECT\n"),
        ]);
        let found = |domain: &str| {
            sellers
                .publisher_or_parent(domain)
                .map(|p| p.relationship("root.com", "1"))
        };
        // a.b.example.com → b.example.com (its own file, which lacks root.com).
        let nearest = sellers
            .publisher_or_parent("A.B.Example.com")
            .expect("b.example.com");
        assert_eq!(
            nearest.relationship("sub.com", "2"),
            Some(Relationship::Reseller)
        );
        assert_eq!(nearest.relationship("root.com", "1"), None);
        assert_eq!(found("www.example.com"), Some(Some(Relationship::Direct)));
        assert_eq!(found("x.y.z.example.com"), Some(Some(Relationship::Direct)));
        assert_eq!(found("example.com"), Some(Some(Relationship::Direct)));
        // Never walks up to one label, though "com" is filed; exact lookups still find it.
        assert!(sellers.publisher_or_parent("other.com").is_none());
        assert!(sellers.publisher_or_parent("com").is_some());
        for junk in ["", ".", "..", "a..", ".example.org", "example.org."] {
            assert!(sellers.publisher_or_parent(junk).is_none(), "{junk:?}");
        }
        assert!(sellers.publisher_or_parent(".example.com").is_some());
    }

    /// Filing a publisher again replaces its file.
    #[test]
    fn insert_replaces_a_publishers_file() {
        let mut sellers = table(&[("example.com", "old.com, 1, DIRECT\n")]);
        let file = AdsTxt::parse("new.com, 1, DIRECT\n").expect("valid");
        sellers.insert("EXAMPLE.com", file);
        let publisher = sellers.publisher("example.com").expect("filed");
        assert_eq!(publisher.relationship("old.com", "1"), None);
        assert_eq!(
            publisher.relationship("new.com", "1"),
            Some(Relationship::Direct)
        );
        assert_eq!(sellers.len(), 1);
    }

    /// A 10k-record file loads and every record is found as listed.
    #[test]
    fn large_file_loads_and_looks_up() {
        let n = 10_000;
        let file = AdsTxt::parse(&synthetic_ads_txt(n)).expect("valid");
        assert_eq!(file.records().len(), n);
        assert!(file.skipped().is_empty());
        let mut sellers = AuthorizedSellers::new();
        sellers.insert("big.example", file);
        let publisher = sellers
            .publisher_or_parent("www.big.example")
            .expect("filed");
        assert_eq!(publisher.len(), n);
        for i in 0..n {
            let expected = if i % 2 == 0 {
                Relationship::Direct
            } else {
                Relationship::Reseller
            };
            let domain = format!("SSP{}.example", i % 50);
            assert_eq!(
                publisher.relationship(&domain, &format!("acct-{i}")),
                Some(expected)
            );
        }
        assert_eq!(publisher.relationship("ssp1.example", "acct-0"), None);
        assert_eq!(
            publisher.relationship("ssp0.example", &format!("acct-{n}")),
            None
        );
    }

    /// Long and odd arguments are simply not found.
    #[test]
    fn odd_lookup_arguments_are_not_found() {
        let sellers = table(&[("example.com", "ssp.com, 1, DIRECT\n")]);
        let publisher = sellers.publisher("example.com").expect("filed");
        let long = "a.".repeat(2_000);
        for (domain, account) in [
            ("", ""),
            (long.as_str(), "1"),
            ("ssp.com", long.as_str()),
            ("ssp.com\0", "1"),
        ] {
            assert_eq!(publisher.relationship(domain, account), None);
        }
        assert!(sellers.publisher_or_parent(&long).is_none());
        assert!(sellers.publisher(&long).is_none());
    }
}
