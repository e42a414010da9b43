//! The cost model: what answering one billion bid requests would cost with Tern
//! on Graviton instances behind a Network Load Balancer, from this run's CPU per
//! request and bytes on the wire, next to the seed design's path (API Gateway,
//! Lambda, DynamoDB), all at the list prices in [`crate::prices`]. It turns the
//! benchmark's microseconds into the figure a design decision is made on.

use std::fmt::Write as _;

use crate::load::{Results, Wire};
use crate::prices::{self, INSTANCES, Instance};
use crate::{fmt_rate, fmt_us};

/// Requests priced.
const REQUESTS: f64 = 1e9;
/// Share of each instance's vCPUs (and of its network bandwidth) the fleet is
/// sized to use: headroom for bursts, for a lost instance and for the p99.
const UTILISATION: f64 = 0.70;
/// The seed design's Lambda: memory configured, GB (512 MB).
const LAMBDA_MEMORY_GB: f64 = 0.5;
/// The seed design's Lambda: billed duration per request, seconds: 10 ms for
/// reading the request, one DynamoDB read (single-digit milliseconds) and the
/// decision.
const LAMBDA_BILLED_S: f64 = 0.010;
/// DynamoDB read request units per bid request in the seed design: one
/// eventually consistent read of up to 4 KB, the least a design that reads its
/// campaigns (or caps, or budgets) from DynamoDB per request does.
const RRU_PER_REQUEST: f64 = 0.5;

/// USD for `requests` in a month under tiered per-million prices
/// (`(requests in the tier, USD per million)`, in order).
fn tiered(requests: f64, tiers: &[(f64, f64)]) -> f64 {
    let mut left = requests;
    let mut usd = 0.0;
    for &(size, per_million) in tiers {
        let here = left.min(size);
        usd += here / 1e6 * per_million;
        left -= here;
        if left <= 0.0 {
            break;
        }
    }
    usd
}

/// How `tiered` got its figure: `300M × $1.00/M + 700M × $0.90/M`.
fn tiered_text(requests: f64, tiers: &[(f64, f64)]) -> String {
    let mut left = requests;
    let mut parts = Vec::new();
    for &(size, per_million) in tiers {
        let here = left.min(size);
        if here > 0.0 {
            parts.push(format!("{:.0}M × {}/M", here / 1e6, fmt_price(per_million)));
        }
        left -= here;
    }
    parts.join(" + ")
}

/// Requests per second one instance answers with `UTILISATION` of its vCPUs busy,
/// at `cpu_us` per request, if its cores scale linearly.
fn cpu_rps(instance: &Instance, cpu_us: f64) -> f64 {
    instance.vcpus * UTILISATION * 1e6 / cpu_us
}

/// Requests per second `UTILISATION` of the instance's bandwidth carries: the
/// busier direction (requests in, responses out) decides.
fn nic_rps(instance: &Instance, wire: Wire) -> f64 {
    UTILISATION * instance.gbps * 1e9 / 8.0 / wire.request.max(wire.response)
}

/// USD to answer `REQUESTS` at `rps` per instance.
fn instance_cost(instance: &Instance, rps: f64) -> f64 {
    REQUESTS / rps / 3600.0 * instance.usd_per_hour
}

/// A whole number with thousands separators: `4,906`.
fn fmt_int(n: f64) -> String {
    let whole = format!("{:.0}", n.abs());
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if n < 0.0 && whole != "0" {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// An amount: `$1,234.56`, whole dollars from $100,000.
pub(crate) fn fmt_usd(usd: f64) -> String {
    if !usd.is_finite() {
        "–".to_owned()
    } else if usd >= 100_000.0 {
        format!("${}", fmt_int(usd))
    } else {
        let cents = (usd * 100.0).round();
        format!(
            "${}.{:02.0}",
            fmt_int((cents / 100.0).trunc()),
            (cents % 100.0).abs()
        )
    }
}

/// A unit price as listed: `$0.0225`, `$3.9936`, and at least the cents: `$0.20`.
fn fmt_price(usd: f64) -> String {
    if ((usd * 100.0).round() - usd * 100.0).abs() < 1e-9 {
        format!("${usd:.2}")
    } else {
        format!("${usd}")
    }
}

/// The "Cost of a billion bid requests" section; nothing when the bidder's CPU
/// per request was not measured.
pub(crate) fn write(w: &mut String, r: &Results) {
    let Some(cpu_us) = r.cpu("bidder") else {
        return;
    };
    let _ = writeln!(w, "## Cost of a billion bid requests\n");
    let wire_text = r.wire.map_or_else(
        || "(bytes on the wire were not measured in this run, so the NLB and bandwidth figures are left out)".to_owned(),
        |x| {
            format!(
                "and the mean bytes on the wire, **{:.0} bytes per request and {:.0} per response** (HTTP heads\n\
                 included, measured over the corpus against the bidder)",
                x.request, x.response
            )
        },
    );
    let _ = writeln!(
        w,
        "What answering 10^9 bid requests would cost, at {}, from this run's\n\
         numbers: the bidder's CPU time per request at saturation, **{}** (user + system, 1,000\n\
         campaigns; it includes the kernel's TCP work on loopback), {wire_text}. Assumptions are\n\
         listed below the tables.\n",
        prices::QUOTED,
        fmt_us(cpu_us),
    );

    let _ = writeln!(
        w,
        "| instance | price | requests/s at {pct:.0}% of its vCPUs | requests/s at {pct:.0}% of its bandwidth | compute per 10^9 requests, CPU-bound | with the bandwidth limit |\n\
         | --- | --- | --- | --- | --- | --- |",
        pct = UTILISATION * 100.0
    );
    for instance in &INSTANCES {
        let cpu = cpu_rps(instance, cpu_us);
        let nic = r.wire.map(|x| nic_rps(instance, x));
        let _ = writeln!(
            w,
            "| {} ({:.0} vCPU, {:.0} Gbit/s each way) | {}/hour | {} | {} | {} | {} |",
            instance.name,
            instance.vcpus,
            instance.gbps,
            fmt_price(instance.usd_per_hour),
            fmt_rate(cpu),
            nic.map_or("–".into(), fmt_rate),
            fmt_usd(instance_cost(instance, cpu)),
            nic.map_or("–".into(), |n| {
                let bound = if n < cpu {
                    "bandwidth-bound"
                } else {
                    "CPU-bound"
                };
                format!("{} ({bound})", fmt_usd(instance_cost(instance, cpu.min(n))))
            }),
        );
    }
    let _ = writeln!(w);

    let instance = &INSTANCES[0];
    // The instance serves what its cores or its network allow, whichever is less.
    let cpu_rate = cpu_rps(instance, cpu_us);
    let rate = r
        .wire
        .map_or(cpu_rate, |x| cpu_rate.min(nic_rps(instance, x)));
    let compute = instance_cost(instance, rate);
    let vcpu_hours = REQUESTS * cpu_us / 1e6 / 3600.0 / UTILISATION;
    let http_api = tiered(REQUESTS, &prices::HTTP_API_TIERS);
    let rest_api = tiered(REQUESTS, &prices::REST_API_TIERS);
    let lambda_requests = REQUESTS / 1e6 * prices::LAMBDA_USD_PER_MILLION_REQUESTS;
    let gb_seconds = REQUESTS * LAMBDA_MEMORY_GB * LAMBDA_BILLED_S;
    let lambda_duration = gb_seconds * prices::LAMBDA_ARM_USD_PER_GB_SECOND;
    let dynamodb = REQUESTS * RRU_PER_REQUEST / 1e6 * prices::DYNAMODB_USD_PER_MILLION_RRU;
    let seed_http = http_api + lambda_requests + lambda_duration + dynamodb;
    let seed_rest = rest_api + lambda_requests + lambda_duration + dynamodb;

    let _ = writeln!(
        w,
        "| design | component | per 10^9 requests | how |\n| --- | --- | --- | --- |"
    );
    let how = if rate < cpu_rate {
        format!(
            "bandwidth-bound: {} at {:.0}% of {:.0} Gbit/s, so 10^9 requests take {:.2} instance-hours × {}/hour (its cores would allow {})",
            fmt_rate(rate),
            UTILISATION * 100.0,
            instance.gbps,
            REQUESTS / rate / 3600.0,
            fmt_price(instance.usd_per_hour),
            fmt_rate(cpu_rate),
        )
    } else {
        format!(
            "{} per request × 10^9 at {:.0}% busy = {vcpu_hours:.1} vCPU-hours × {}/hour ÷ {:.0} vCPUs",
            fmt_us(cpu_us),
            UTILISATION * 100.0,
            fmt_price(instance.usd_per_hour),
            instance.vcpus,
        )
    };
    let _ = writeln!(
        w,
        "| Tern on EC2 | compute, {} | {} | {how} |",
        instance.name,
        fmt_usd(compute),
    );
    let mut tern = compute;
    if let Some(x) = r.wire {
        let gb = REQUESTS * (x.request + x.response) / prices::NLB_BYTES_PER_NLCU_HOUR;
        let nlb = gb * prices::NLB_USD_PER_NLCU_HOUR;
        tern += nlb;
        let _ = writeln!(
            w,
            "| Tern on EC2 | Network Load Balancer, processed bytes | {} | ({:.0} + {:.0}) bytes × 10^9 = {} GB = {} NLCU-hours × {} |",
            fmt_usd(nlb),
            x.request,
            x.response,
            fmt_int(gb),
            fmt_int(gb),
            fmt_price(prices::NLB_USD_PER_NLCU_HOUR),
        );
    }
    let _ = writeln!(
        w,
        "| Tern on EC2 | **total** | **{}** | the NLB's hourly charge ({}/hour) is per hour, not per request: left out |",
        fmt_usd(tern),
        fmt_price(prices::NLB_USD_PER_HOUR),
    );
    let _ = writeln!(
        w,
        "| seed | API Gateway, HTTP API | {} | a month's first 10^9: {} ({} per 10^9 in the last tier) |",
        fmt_usd(http_api),
        tiered_text(REQUESTS, &prices::HTTP_API_TIERS),
        fmt_usd(REQUESTS / 1e6 * prices::HTTP_API_TIERS[1].1),
    );
    let _ = writeln!(
        w,
        "| seed | API Gateway, REST API (instead of HTTP API) | {} | a month's first 10^9: {} ({} per 10^9 in the last tier, beyond 20 billion a month) |",
        fmt_usd(rest_api),
        tiered_text(REQUESTS, &prices::REST_API_TIERS),
        fmt_usd(REQUESTS / 1e6 * prices::REST_API_TIERS[3].1),
    );
    let _ = writeln!(
        w,
        "| seed | Lambda requests | {} | {} per million |",
        fmt_usd(lambda_requests),
        fmt_price(prices::LAMBDA_USD_PER_MILLION_REQUESTS),
    );
    let _ = writeln!(
        w,
        "| seed | Lambda duration (Arm) | {} | {:.0} MB × {:.0} ms billed per request = {} GB-s × {} per GB-s |",
        fmt_usd(lambda_duration),
        LAMBDA_MEMORY_GB * 1024.0,
        LAMBDA_BILLED_S * 1e3,
        fmt_int(gb_seconds),
        fmt_price(prices::LAMBDA_ARM_USD_PER_GB_SECOND),
    );
    let _ = writeln!(
        w,
        "| seed | DynamoDB reads (on-demand) | {} | {RRU_PER_REQUEST} RRU per request × {} per million RRU |",
        fmt_usd(dynamodb),
        fmt_price(prices::DYNAMODB_USD_PER_MILLION_RRU),
    );
    let _ = writeln!(
        w,
        "| seed | **total**, with HTTP API / with REST API | **{} / {}** | |",
        fmt_usd(seed_http),
        fmt_usd(seed_rest),
    );
    if let Some(x) = r.wire {
        let gb = REQUESTS * x.response / 1e9;
        let _ = writeln!(
            w,
            "| both, not in the totals | data transfer out to the internet | {} | responses {:.0} bytes × 10^9 = {} GB × {} per GB, the same for both designs (none for an exchange in the same region) |",
            fmt_usd(gb * prices::DATA_OUT_USD_PER_GB),
            x.response,
            fmt_int(gb),
            fmt_price(prices::DATA_OUT_USD_PER_GB),
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Per 10^9 requests Tern on {} costs **{}**, compute {:.0}% of it; the seed design's path\n\
         costs **{}** with an HTTP API ({:.0}× Tern's) and **{}** with a REST API ({:.0}×).\n",
        instance.name,
        fmt_usd(tern),
        100.0 * compute / tern,
        fmt_usd(seed_http),
        seed_http / tern,
        fmt_usd(seed_rest),
        seed_rest / tern,
    );
    let _ = writeln!(
        w,
        "Assumptions:\n\
         - The CPU time per request measured here, on one vCPU of this machine, stands for one\n  \
         Graviton3 core's (a Graviton vCPU is a whole core). Not measured on Graviton.\n\
         - Cores scale linearly to all of an instance's vCPUs (the scaling section measures 1 and 2\n  \
         workers only), each kept {pct:.0}% busy; the compute-only figure assumes the network is not a\n  \
         limit, and the instance table shows where it would be (bandwidth each way; packet-rate\n  \
         limits, which AWS does not publish, are not modelled).\n\
         - Loopback is not a NIC: the kernel time measured covers TCP over loopback; a real NIC adds\n  \
         interrupt and driver work. No TLS anywhere (a TLS listener on the NLB is priced differently).\n\
         - On-demand list prices: no reserved instances, savings plans, spot or free tier. Charges by\n  \
         the hour rather than by the request (the NLB's hours), storage, monitoring, the event stream\n  \
         and the campaign store are left out of both designs.\n\
         - NLB processed bytes are the HTTP bytes both ways (TCP/IP headers add a few percent), a GB\n  \
         taken as 10^9 bytes.\n\
         - Seed design: API Gateway at a month's first billion; Lambda on Arm with {mb:.0} MB and\n  \
         {ms:.0} ms billed per request (each further millisecond adds {per_ms} per 10^9); DynamoDB\n  \
         on-demand with one eventually consistent read of up to 4 KB per request, a lower bound\n  \
         (reading campaigns, caps and budgets takes more). DAX is priced per node-hour, not per\n  \
         request, so it is not costed: a DAX hit costs no read units, the nodes cost the same at any\n  \
         hit rate.\n",
        pct = UTILISATION * 100.0,
        mb = LAMBDA_MEMORY_GB * 1024.0,
        ms = LAMBDA_BILLED_S * 1e3,
        per_ms = fmt_usd(REQUESTS * LAMBDA_MEMORY_GB * 1e-3 * prices::LAMBDA_ARM_USD_PER_GB_SECOND),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_add_up() {
        assert!((tiered(1e9, &prices::HTTP_API_TIERS) - 930.0).abs() < 1e-6);
        assert!((tiered(1e9, &prices::REST_API_TIERS) - 3033.1).abs() < 1e-6);
        assert!((tiered(100e6, &prices::REST_API_TIERS) - 350.0).abs() < 1e-6);
        assert_eq!(
            tiered_text(1e9, &prices::HTTP_API_TIERS),
            "300M × $1.00/M + 700M × $0.90/M"
        );
    }

    #[test]
    fn dollars_are_grouped() {
        assert_eq!(fmt_usd(0.187), "$0.19");
        assert_eq!(fmt_usd(3033.1), "$3,033.10");
        assert_eq!(fmt_usd(1_234_567.0), "$1,234,567");
        assert_eq!(fmt_usd(930.0), "$930.00");
        assert_eq!(fmt_usd(999.996), "$1,000.00");
        assert_eq!(fmt_price(0.0225), "$0.0225");
        assert_eq!(fmt_price(0.2), "$0.20");
        assert_eq!(fmt_price(0.000_013_333_4), "$0.0000133334");
        assert_eq!(fmt_int(4906.2), "4,906");
    }
}
