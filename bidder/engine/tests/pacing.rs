//! Pacing on a simulated clock: three simulated days of uneven traffic (a diurnal
//! swing of nine to one, with minute-to-minute noise) against a campaign that could
//! spend its daily budget four times over. Days one and two teach the traffic
//! profile; on day three each hour's spend must follow the day's traffic and the
//! day must spend its budget, neither over nor more than 1% under.
//!
//! The simulation is the decision's view of pacing: every request the campaign
//! could win is bid on with the throttle's probability (as `CampaignBudget::admits`
//! draws), a bid wins three times in ten at a clearing price between 1.00 and 2.00
//! CPM, its billing notice arrives 0 to 5 seconds later, and the controller is
//! updated once a second on spend as the ledger would show it one flush (a second)
//! behind. A bid is only made while the budget can pay for it and every bid in
//! flight, as a lease with holds enforces.

use tern_engine::budget::{PacingController, PacingInput, TrafficProfile};

const DAY_S: u64 = 86_400;
/// 2026-12-01T00:00:00Z.
const START: u64 = 1_796_083_200;
/// Micros of the daily budget: about a quarter of what the traffic could buy.
const DAILY_BUDGET: u64 = 200_000_000;
/// Requests per second at the day's mean.
const MEAN_RATE: f64 = 20.0;

/// Requests per second expected at second `s` of the day: a low of 0.2 (at 03:00)
/// and a peak of 1.8 times the mean (at 15:00).
fn expected_rate(s: u64) -> f64 {
    let phase = (s as f64 / DAY_S as f64 - 0.5) * std::f64::consts::TAU;
    MEAN_RATE * (1.0 + 0.8 * (phase + std::f64::consts::FRAC_PI_2 * 0.5).sin())
}

/// What one simulated day spent, by hour.
struct Day {
    by_hour: [u64; 24],
    total: u64,
}

fn simulate_day(
    day: u64,
    rng: &mut fastrand::Rng,
    controller: &mut PacingController,
    profile: &mut TrafficProfile,
) -> Day {
    let start = START + day * DAY_S;
    let end = start + DAY_S;
    // (second the notice arrives, micros) of bids won and not yet billed.
    let mut in_flight: Vec<(u64, u64)> = Vec::new();
    let mut billed = 0u64;
    let mut billed_by_second_end = Vec::with_capacity(DAY_S as usize);
    let mut by_hour = [0u64; 24];
    let mut throttle = 1.0;
    let mut noise = 1.0;
    for s in 0..DAY_S {
        let now = start + s;
        if s % 60 == 0 {
            noise = 0.85 + rng.f64() * 0.3;
        }
        let lambda = expected_rate(s) * noise;
        let requests = lambda as u64 + u64::from(rng.f64() < lambda.fract());
        profile.observe(now, requests);
        // Each won bid holds its price (2,000 micros) until billed.
        let mut held = 2_000 * in_flight.len() as u64;
        for _ in 0..requests {
            if rng.f64() >= throttle || billed + held + 2_000 > DAILY_BUDGET {
                continue;
            }
            if rng.f64() < 0.3 {
                let cost = 1_000 + rng.u64(0..=1_000);
                in_flight.push((now + rng.u64(0..=5), cost));
                held += 2_000;
            }
        }
        in_flight.retain(|&(at, micros)| {
            if at <= now {
                billed += micros;
                by_hour[(s / 3_600) as usize] += micros;
                false
            } else {
                true
            }
        });
        billed_by_second_end.push(billed);
        // The ledger, one flush behind.
        let seen = if s == 0 {
            0
        } else {
            billed_by_second_end[s as usize - 1]
        };
        throttle = controller.update(&PacingInput {
            now_s: now,
            day_end_s: end,
            daily_budget: DAILY_BUDGET,
            spent_today: seen,
            traffic: profile,
        });
    }
    Day {
        by_hour,
        total: by_hour.iter().sum(),
    }
}

#[test]
fn a_paced_day_follows_its_traffic_and_spends_its_budget() {
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut controller = PacingController::default();
    let mut profile = TrafficProfile::default();
    let mut days = Vec::new();
    for day in 0..3 {
        days.push(simulate_day(day, &mut rng, &mut controller, &mut profile));
    }
    let expected_day: f64 = (0..DAY_S).map(expected_rate).sum();
    // Unpaced, the traffic would buy the budget nearly four times over.
    let could_spend = expected_day * 0.3 * 1_500.0;
    assert!(could_spend > 3.5 * DAILY_BUDGET as f64, "{could_spend}");
    for (n, day) in days.iter().enumerate() {
        let share = day.total as f64 / DAILY_BUDGET as f64;
        println!("day {n}: spent {share:.4} of the budget");
        assert!(
            day.total <= DAILY_BUDGET,
            "day {n} overspent: {}",
            day.total
        );
        assert!(
            share >= 0.99,
            "day {n} left more than 1% unspent: {share:.4}"
        );
    }
    let third = &days[2];
    let mut worst: f64 = 0.0;
    for hour in 0..24 {
        let traffic: f64 = (hour * 3_600..(hour + 1) * 3_600).map(expected_rate).sum();
        let target = DAILY_BUDGET as f64 * traffic / expected_day;
        let got = third.by_hour[hour as usize] as f64;
        let off = (got - target).abs() / target;
        println!("hour {hour:2}: target {target:>12.0} spent {got:>12.0} off {off:.3}");
        worst = worst.max(off);
    }
    assert!(
        worst <= 0.10,
        "an hour strayed {worst:.3} from the traffic's share"
    );
}
