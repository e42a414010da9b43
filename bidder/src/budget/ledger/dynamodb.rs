//! The spend ledger in DynamoDB, shared by a fleet: one item per campaign (key
//! `campaign_id`), each [`Update`] one conditional `UpdateItem` that returns the
//! item after it (`ALL_NEW`), reads with `GetItem` (consistent). The counters
//! use atomic arithmetic (`ADD` for the top-level totals, `SET p = p + :n` inside
//! maps); the conditions are those of `local::apply`, against which a test runs the
//! same updates.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::local::FORGET_LEASES_AFTER_S;
use tern_tables::spend::from_item;

use super::{
    DayFigures, Flush, Lease, LeaseKey, Ledger, LedgerError, LedgerItem, Update, bidder_key,
};
use crate::aws::error_text;

/// The DynamoDB spend ledger.
#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    /// The ledger in `table`.
    pub fn new(client: Client, table: String) -> DynamoLedger {
        DynamoLedger { client, table }
    }

    /// Creates the spend table (key `campaign_id`, on demand, no stream) and waits
    /// until it is active: for local and test setups (Terraform creates it in AWS,
    /// encrypted and with point-in-time recovery).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), LedgerError> {
        use tern_tables::schema::{Table, create};
        create(client, Table::Spend, table)
            .await
            .map_err(|e| LedgerError::Unavailable(e.to_string()))
    }

    async fn update(&self, campaign_id: &str, expr: Expr) -> Result<LedgerItem, LedgerError> {
        let Expr {
            names,
            values,
            set,
            add,
            remove,
            conditions,
        } = expr;
        let mut clauses = Vec::new();
        if !set.is_empty() {
            clauses.push(format!("SET {}", set.join(", ")));
        }
        if !add.is_empty() {
            clauses.push(format!("ADD {}", add.join(", ")));
        }
        if !remove.is_empty() {
            clauses.push(format!("REMOVE {}", remove.join(", ")));
        }
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("campaign_id", AttributeValue::S(campaign_id.to_owned()))
            .update_expression(clauses.join(" "))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_values(ReturnValue::AllNew);
        if !conditions.is_empty() {
            call = call.condition_expression(conditions.join(" AND "));
        }
        match call.send().await {
            Ok(output) => Ok(from_item(&output.attributes.unwrap_or_default())),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Err(LedgerError::Conflict)
            }
            Err(e) => Err(LedgerError::Unavailable(error_text(&e))),
        }
    }
}

impl Ledger for DynamoLedger {
    async fn read(&self, campaign_id: &str) -> Result<LedgerItem, LedgerError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("campaign_id", AttributeValue::S(campaign_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| LedgerError::Unavailable(error_text(&e)))?;
        Ok(output.item.as_ref().map(from_item).unwrap_or_default())
    }

    async fn apply(&self, campaign_id: &str, update: &Update) -> Result<LedgerItem, LedgerError> {
        match update {
            Update::Open { lease, bidder_id } => {
                // Two calls: a map and a path inside it cannot be set in one.
                self.update(campaign_id, open_maps()).await?;
                self.update(campaign_id, open_lease(lease, bidder_id)).await
            }
            Update::Flush(flush) => self.update(campaign_id, flush_expr(flush)).await,
            Update::Grant {
                lease,
                seq,
                slice,
                total_limit,
                daily_limit,
                expires_s,
            } => {
                let mut e = Expr::default();
                let lease_path = e.lease_path(lease);
                e.expect_seq(&lease_path, *seq);
                let day = e.day_path(&lease.date);
                if let Some(limit) = total_limit {
                    let Some(most) = limit.checked_sub(*slice) else {
                        return Err(LedgerError::Conflict);
                    };
                    let (total, most) = (e.name("total_committed"), e.number(most));
                    e.conditions.push(format!("{total} <= {most}"));
                }
                if let Some(limit) = daily_limit {
                    let Some(most) = limit.checked_sub(*slice) else {
                        return Err(LedgerError::Conflict);
                    };
                    let most = e.number(most);
                    e.conditions.push(format!("{day}.committed <= {most}"));
                }
                let slice = i128::from(*slice);
                e.change(&format!("{lease_path}.reserved"), slice);
                e.change(&format!("{day}.committed"), slice);
                e.total("total_committed", slice);
                e.bump_seq(&lease_path, *seq);
                e.assign(&format!("{lease_path}.expires_s"), *expires_s);
                self.update(campaign_id, e).await
            }
            Update::Return { lease, seq, amount } => {
                // The amount is capped by what the lease holds as last read.
                let mut e = Expr::default();
                let lease_path = e.lease_path(lease);
                e.expect_seq(&lease_path, *seq);
                let most = e.number(*amount);
                e.conditions
                    .push(format!("{lease_path}.reserved >= {most}"));
                let day = e.day_path(&lease.date);
                let amount = -i128::from(*amount);
                e.change(&format!("{lease_path}.reserved"), amount);
                e.change(&format!("{day}.committed"), amount);
                e.total("total_committed", amount);
                e.bump_seq(&lease_path, *seq);
                self.update(campaign_id, e).await
            }
            Update::Reclaim { lease, seq, now_s } => {
                let item = self.read(campaign_id).await?;
                let entry = item
                    .lease(lease)
                    .filter(|l| l.seq == *seq && l.expires_s < *now_s)
                    .ok_or(LedgerError::Conflict)?;
                let mut e = Expr::default();
                let lease_path = e.lease_path(lease);
                e.expect_seq(&lease_path, *seq);
                let now = e.number(*now_s);
                e.conditions.push(format!("{lease_path}.expires_s < {now}"));
                if entry.reserved == 0 && entry.expires_s + FORGET_LEASES_AFTER_S < *now_s {
                    let foreign = e.path("foreign", &lease.to_string());
                    e.remove.push(lease_path);
                    e.remove.push(foreign);
                } else {
                    let reserved = e.number(entry.reserved);
                    e.conditions
                        .push(format!("{lease_path}.reserved = {reserved}"));
                    let day = e.day_path(&lease.date);
                    let amount = -i128::from(entry.reserved);
                    e.change(&format!("{lease_path}.reserved"), amount);
                    e.change(&format!("{day}.committed"), amount);
                    e.total("total_committed", amount);
                    e.bump_seq(&lease_path, *seq);
                }
                self.update(campaign_id, e).await
            }
            Update::Alert { key, bidder_id } => {
                let mut e = Expr::default();
                let path = e.path("alerts", key);
                e.conditions.push(format!("attribute_not_exists({path})"));
                let who = e.value(AttributeValue::S(bidder_id.clone()));
                e.set.push(format!("{path} = {who}"));
                self.update(campaign_id, e).await
            }
        }
    }

    async fn checkpoint(&self) -> Result<(), LedgerError> {
        Ok(())
    }
}

/// An update expression being written, with its placeholders.
#[derive(Debug, Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    set: Vec<String>,
    add: Vec<String>,
    remove: Vec<String>,
    conditions: Vec<String>,
}

impl Expr {
    /// A placeholder for attribute name `name` (map keys hold `@`, `-`, `/`).
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn number(&mut self, n: impl ToString) -> String {
        self.value(AttributeValue::N(n.to_string()))
    }

    /// `map.key` with both names as placeholders (many short words, `days` and
    /// `foreign` among them, are reserved in expressions).
    fn path(&mut self, map: &str, key: &str) -> String {
        format!("{}.{}", self.name(map), self.name(key))
    }

    fn lease_path(&mut self, lease: &LeaseKey) -> String {
        self.path("leases", &lease.to_string())
    }

    fn day_path(&mut self, date: &str) -> String {
        self.path("days", date)
    }

    fn expect_seq(&mut self, lease_path: &str, seq: u64) {
        let seq = self.number(seq);
        self.conditions.push(format!("{lease_path}.seq = {seq}"));
    }

    fn bump_seq(&mut self, lease_path: &str, seq: u64) {
        self.assign(&format!("{lease_path}.seq"), seq + 1);
    }

    fn assign(&mut self, path: &str, n: u64) {
        let n = self.number(n);
        self.set.push(format!("{path} = {n}"));
    }

    /// `path = path ± |delta|` for a number inside a map.
    fn change(&mut self, path: &str, delta: i128) {
        if delta == 0 {
            return;
        }
        let (op, magnitude) = if delta > 0 {
            ('+', delta)
        } else {
            ('-', -delta)
        };
        let magnitude = self.number(magnitude);
        self.set.push(format!("{path} = {path} {op} {magnitude}"));
    }

    /// `ADD name delta` for a top-level counter.
    fn total(&mut self, name: &str, delta: i128) {
        if delta != 0 {
            let name = self.name(name);
            let delta = self.number(delta);
            self.add.push(format!("{name} {delta}"));
        }
    }
}

fn open_maps() -> Expr {
    let mut e = Expr::default();
    let empty = e.value(AttributeValue::M(HashMap::new()));
    let zero = e.number(0);
    for map in ["days", "leases", "foreign", "flushed", "alerts"] {
        let map = e.name(map);
        e.set.push(format!("{map} = if_not_exists({map}, {empty})"));
    }
    for counter in ["total_spent", "total_committed"] {
        let counter = e.name(counter);
        e.set
            .push(format!("{counter} = if_not_exists({counter}, {zero})"));
    }
    e
}

fn open_lease(lease: &LeaseKey, bidder_id: &str) -> Expr {
    let mut e = Expr::default();
    let day = e.day_path(&lease.date);
    let lease_path = e.lease_path(lease);
    let zero_day = e.value(day_value(&DayFigures::default()));
    let fresh = e.value(lease_value(&Lease {
        bidder_id: bidder_id.to_owned(),
        ..Lease::default()
    }));
    e.set
        .push(format!("{day} = if_not_exists({day}, {zero_day})"));
    e.set.push(format!(
        "{lease_path} = if_not_exists({lease_path}, {fresh})"
    ));
    e
}

fn flush_expr(flush: &Flush) -> Expr {
    let mut e = Expr::default();
    if flush.has_spend() {
        let path = e.path("flushed", &bidder_key(flush.journal));
        let position = e.number(flush.position);
        e.conditions.push(format!(
            "(attribute_not_exists({path}) OR {path} < {position})"
        ));
        e.set.push(format!("{path} = {position}"));
    }
    // By day: (spent, change of committed), as `local::apply` counts them.
    let mut by_day: BTreeMap<&str, (i128, i128)> = BTreeMap::new();
    for o in &flush.own {
        let lease_path = e.lease_path(&o.lease);
        e.expect_seq(&lease_path, o.seq);
        e.change(
            &format!("{lease_path}.reserved"),
            -i128::from(o.covered + o.absorb_covered),
        );
        e.change(&format!("{lease_path}.absorbed"), i128::from(o.absorb));
        e.bump_seq(&lease_path, o.seq);
        e.assign(&format!("{lease_path}.expires_s"), o.expires_s);
        let day = by_day.entry(&o.lease.date).or_default();
        day.0 += i128::from(o.spend);
        day.1 += i128::from(o.spend - o.covered) - i128::from(o.absorb_covered);
    }
    for (lease, micros) in &flush.foreign {
        let path = e.path("foreign", &lease.to_string());
        let zero = e.number(0);
        let micros_value = e.number(*micros);
        e.set.push(format!(
            "{path} = if_not_exists({path}, {zero}) + {micros_value}"
        ));
        let day = by_day.entry(&lease.date).or_default();
        day.0 += i128::from(*micros);
        day.1 += i128::from(*micros);
    }
    for (date, micros) in &flush.unattributed {
        let day = by_day.entry(date).or_default();
        day.0 += i128::from(*micros);
        day.1 += i128::from(*micros);
    }
    let (mut spent, mut committed) = (0, 0);
    for (date, (day_spent, day_committed)) in by_day {
        if day_spent == 0 && day_committed == 0 {
            // DynamoDB refuses names the expression does not use: a renewal, or
            // spend of zero (notices at a price of 0), touches no day.
            continue;
        }
        let day = e.day_path(date);
        e.change(&format!("{day}.spent"), day_spent);
        e.change(&format!("{day}.committed"), day_committed);
        spent += day_spent;
        committed += day_committed;
    }
    e.total("total_spent", spent);
    e.total("total_committed", committed);
    e
}

fn day_value(day: &DayFigures) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("spent".to_owned(), AttributeValue::N(day.spent.to_string())),
        (
            "committed".to_owned(),
            AttributeValue::N(day.committed.to_string()),
        ),
    ]))
}

fn lease_value(lease: &Lease) -> AttributeValue {
    let n = |v: u64| AttributeValue::N(v.to_string());
    AttributeValue::M(HashMap::from([
        (
            "bidder_id".to_owned(),
            AttributeValue::S(lease.bidder_id.clone()),
        ),
        ("reserved".to_owned(), n(lease.reserved)),
        ("absorbed".to_owned(), n(lease.absorbed)),
        ("seq".to_owned(), n(lease.seq)),
        ("expires_s".to_owned(), n(lease.expires_s)),
    ]))
}
