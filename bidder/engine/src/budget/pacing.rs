//! Pacing: spreading a daily budget over the day.
//!
//! `even` pacing (the default) aims to spend a day's budget in step with the
//! traffic of the day, so a campaign is seen all day rather than gone by noon.
//! Each budget service runs one [`PacingController`] per campaign, on the fleet's
//! spend as the ledger reports it (every bidder sees the same figures, so they
//! settle on the same throttle), and sets the share of bids the decision lets
//! through (`CampaignBudget::set_throttle`).
//!
//! The plan is re-made at every update: what is left of the budget, spread over
//! what is left of the day in proportion to the traffic expected in it. The
//! [`TrafficProfile`] learns that shape from the requests this bidder has seen,
//! per quarter hour of the day, over previous days (a flat day until it has
//! seen one). So spending behind plan raises the target and spending ahead lowers
//! it: the remaining budget carries the cumulative error. The throttle then
//! follows the ratio of the target rate to the measured spend rate, integrated
//! in log space (a throttle twice too high halves over `ADJUST_S`), on a
//! half-minute average of the spend rate so the lumpy arrival of billing notices
//! does not make it swing. The integral time is three times the averaging time,
//! which keeps the loop damped (a first-order lag under integral control is
//! critically damped at a ratio of four, and underdamped but settling at three).

use serde::{Deserialize, Serialize};

/// Quarter hours in a day: the profile's resolution.
pub const PROFILE_SLOTS: usize = 96;
/// Seconds one profile slot covers.
const SLOT_S: u64 = 86_400 / PROFILE_SLOTS as u64;
/// Weight of the newest day when a slot's count joins the profile.
const PROFILE_LEARNING: f64 = 0.5;
/// Seconds the spend-rate average spans (its time constant).
const RATE_WINDOW_S: f64 = 30.0;
/// Seconds over which the throttle makes up a given ratio of target to measured
/// rate (the integral time).
const ADJUST_S: f64 = 90.0;
/// Largest ratio of target to measured rate the throttle follows.
const MAX_RATIO: f64 = 8.0;
/// The lowest throttle: a paced campaign keeps a trickle of bids, so the
/// controller keeps seeing what the campaign could spend.
pub const MIN_THROTTLE: f64 = 1.0 / 1_024.0;

/// How a campaign spends its daily budget over the day (`budget.pacing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Pacing {
    /// In step with the day's traffic.
    #[default]
    Even,
    /// As fast as bids win, until the budget is spent.
    Asap,
}

impl Pacing {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Pacing::Even => "even",
            Pacing::Asap => "asap",
        }
    }
}

/// The shape of a day's traffic: requests per quarter hour of the UTC day,
/// averaged over the days seen, plus the counts of the day in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficProfile {
    /// Learned requests per slot; all zero until one slot has been seen whole.
    learned: Vec<f64>,
    /// Requests counted in the current slot.
    counting: u64,
    /// The slot being counted (slots since the epoch), 0 before the first.
    slot: u64,
}

impl Default for TrafficProfile {
    fn default() -> Self {
        TrafficProfile {
            learned: vec![0.0; PROFILE_SLOTS],
            counting: 0,
            slot: 0,
        }
    }
}

impl TrafficProfile {
    /// Counts `requests` seen up to `now_s`.
    pub fn observe(&mut self, now_s: u64, requests: u64) {
        let slot = now_s / SLOT_S;
        if slot != self.slot {
            // A slot seen whole (the one just ended) joins the profile.
            if self.slot != 0 && slot == self.slot + 1 {
                let learned = &mut self.learned[(self.slot as usize) % PROFILE_SLOTS];
                let count = self.counting as f64;
                *learned = if *learned == 0.0 {
                    count
                } else {
                    *learned * (1.0 - PROFILE_LEARNING) + count * PROFILE_LEARNING
                };
            }
            self.slot = slot;
            self.counting = 0;
        }
        self.counting += requests;
    }

    /// Expected traffic between `from_s` and `to_s`, in slot-weights: the learned
    /// counts of the slots, pro rata for partial ones. A slot never seen counts
    /// as the average of those seen (or 1 when none are), so an unknown day is
    /// flat.
    pub fn expected(&self, from_s: u64, to_s: u64) -> f64 {
        let seen: Vec<f64> = self.learned.iter().copied().filter(|c| *c > 0.0).collect();
        let fallback = if seen.is_empty() {
            1.0
        } else {
            seen.iter().sum::<f64>() / seen.len() as f64
        };
        let mut total = 0.0;
        let mut at = from_s;
        while at < to_s {
            let slot = at / SLOT_S;
            let slot_end = ((slot + 1) * SLOT_S).min(to_s);
            let weight = match self.learned[(slot as usize) % PROFILE_SLOTS] {
                c if c > 0.0 => c,
                _ => fallback,
            };
            total += weight * (slot_end - at) as f64 / SLOT_S as f64;
            at = slot_end;
        }
        total
    }
}

/// What one pacing update needs, all in micros of the campaign's currency.
#[derive(Debug, Clone, Copy)]
pub struct PacingInput<'p> {
    /// Now, seconds since the epoch.
    pub now_s: u64,
    /// When the budget day ends, seconds since the epoch.
    pub day_end_s: u64,
    /// The daily budget.
    pub daily_budget: u64,
    /// The fleet's spend on this budget day so far.
    pub spent_today: u64,
    /// The day's expected traffic.
    pub traffic: &'p TrafficProfile,
}

/// One campaign's pacing state (see the module). `Default` starts unthrottled.
#[derive(Debug, Clone)]
pub struct PacingController {
    throttle: f64,
    /// Average fleet spend rate, micros per second.
    rate: f64,
    /// The last update's time and spend, to measure the rate.
    last: Option<(u64, u64)>,
    /// The rate the last update aimed at, micros per second.
    target: f64,
}

impl Default for PacingController {
    fn default() -> Self {
        PacingController {
            throttle: 1.0,
            rate: 0.0,
            last: None,
            target: 0.0,
        }
    }
}

impl PacingController {
    /// Updates on the fleet's spend so far; returns the throttle to apply (the
    /// share of bids let through, `MIN_THROTTLE` to 1).
    pub fn update(&mut self, input: &PacingInput<'_>) -> f64 {
        let PacingInput {
            now_s,
            day_end_s,
            daily_budget,
            spent_today,
            traffic,
        } = *input;
        let mut elapsed = 0.0;
        if let Some((then, spent_then)) = self.last {
            if spent_today < spent_then {
                // A new budget day: its spend starts again from zero.
                self.rate = 0.0;
            } else if now_s > then {
                elapsed = (now_s - then) as f64;
                let rate = (spent_today - spent_then) as f64 / elapsed;
                let keep = (-elapsed / RATE_WINDOW_S).exp();
                self.rate = self.rate * keep + rate * (1.0 - keep);
            }
        }
        self.last = Some((now_s, spent_today));
        let left = daily_budget.saturating_sub(spent_today) as f64;
        if left <= 0.0 || now_s >= day_end_s {
            self.target = 0.0;
            return self.throttle;
        }
        // The remaining budget over the remaining day, weighted by traffic: the
        // share of it due in the next second.
        let ahead = traffic.expected(now_s, day_end_s);
        let next = traffic.expected(now_s, now_s + 1);
        self.target = if ahead > 0.0 {
            left * next / ahead
        } else {
            left
        };
        let ratio = if self.rate > 0.0 {
            (self.target / self.rate).clamp(1.0 / MAX_RATIO, MAX_RATIO)
        } else {
            MAX_RATIO
        };
        let step = ratio.powf((elapsed / ADJUST_S).min(1.0));
        self.throttle = (self.throttle * step).clamp(MIN_THROTTLE, 1.0);
        self.throttle
    }

    /// The throttle last set.
    pub fn throttle(&self) -> f64 {
        self.throttle
    }

    /// The spend rate the last update aimed at, micros per second.
    pub fn target_rate(&self) -> f64 {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIDNIGHT: u64 = 1_796_083_200; // 2026-12-01T00:00:00Z

    #[test]
    fn an_unseen_day_is_flat_and_a_seen_one_has_its_shape() {
        let mut p = TrafficProfile::default();
        let half = p.expected(MIDNIGHT, MIDNIGHT + 43_200);
        let whole = p.expected(MIDNIGHT, MIDNIGHT + 86_400);
        assert!((half / whole - 0.5).abs() < 1e-9);
        // A day with three times the traffic in the afternoon.
        for s in (0..86_400).step_by(60) {
            p.observe(MIDNIGHT + s, if s >= 43_200 { 3 } else { 1 });
        }
        p.observe(MIDNIGHT + 86_400, 0);
        let morning = p.expected(MIDNIGHT + 86_400, MIDNIGHT + 86_400 + 43_200);
        let afternoon = p.expected(MIDNIGHT + 86_400 + 43_200, MIDNIGHT + 2 * 86_400);
        assert!(
            (afternoon / morning - 3.0).abs() < 1e-9,
            "{afternoon} {morning}"
        );
    }

    #[test]
    fn behind_plan_opens_up_and_ahead_of_plan_throttles() {
        let traffic = TrafficProfile::default();
        let mut c = PacingController::default();
        let budget = 86_400_000; // 1,000 micros a second over a flat day.
        let mut spent = 0;
        // Spending 4,000 a second, four times the plan: the throttle falls.
        for s in 0..600 {
            spent += 4_000;
            c.update(&PacingInput {
                now_s: MIDNIGHT + s,
                day_end_s: MIDNIGHT + 86_400,
                daily_budget: budget,
                spent_today: spent,
                traffic: &traffic,
            });
        }
        assert!(c.throttle() < 0.5, "{}", c.throttle());
        // Nothing spent for a while: it opens again.
        let low = c.throttle();
        for s in 600..700 {
            c.update(&PacingInput {
                now_s: MIDNIGHT + s,
                day_end_s: MIDNIGHT + 86_400,
                daily_budget: budget,
                spent_today: spent,
                traffic: &traffic,
            });
        }
        assert!(c.throttle() > low);
    }
}
