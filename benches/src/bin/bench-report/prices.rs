//! AWS list prices for the report's cost model, in one place so they are easy to
//! check and to update: every figure is a published on-demand list price for
//! US East (N. Virginia), `us-east-1`, in USD, without free tier, reserved
//! capacity, savings plans or private pricing.
//!
//! Sources: AWS's public pricing pages as published in 2025, the latest price list
//! known when this module was written:
//! - EC2: <https://aws.amazon.com/ec2/pricing/on-demand/> (Linux); vCPUs and network
//!   bandwidth: <https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html>.
//! - Network Load Balancer: <https://aws.amazon.com/elasticloadbalancing/pricing/>.
//! - API Gateway: <https://aws.amazon.com/api-gateway/pricing/>.
//! - Lambda: <https://aws.amazon.com/lambda/pricing/> (Arm).
//! - DynamoDB: <https://aws.amazon.com/dynamodb/pricing/on-demand/> (on-demand
//!   throughput was halved on 2024-11-01; this is the price after that).
//! - Data transfer out: the EC2 page's data transfer section.
//!
//! These are list prices as published, not quotes: check the pages before using
//! the figures for a decision.

/// Printed with every price in the report.
pub(crate) const QUOTED: &str =
    "AWS on-demand list prices for us-east-1 as published in 2025 (list prices, check current)";

/// An EC2 instance type the cost model prices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Instance {
    /// The type's name.
    pub(crate) name: &'static str,
    /// vCPUs; on Graviton each vCPU is a physical core (no SMT).
    pub(crate) vcpus: f64,
    /// On-demand Linux price, USD per hour.
    pub(crate) usd_per_hour: f64,
    /// Network bandwidth, Gbit/s, available inbound and outbound at once (EC2's
    /// instance bandwidth applies to each direction).
    pub(crate) gbps: f64,
}

/// The instances priced: Graviton3, the compute-optimized type and its
/// network-optimized sibling (same cores, about 7× the bandwidth).
pub(crate) const INSTANCES: [Instance; 2] = [
    // c7g.16xlarge: 64 vCPU, 128 GiB, 30 Gbit/s; $2.32/h since c7g's launch (2022).
    Instance {
        name: "c7g.16xlarge",
        vcpus: 64.0,
        usd_per_hour: 2.32,
        gbps: 30.0,
    },
    // c7gn.16xlarge: 64 vCPU, 128 GiB, 200 Gbit/s; $3.9936/h since c7gn's launch (2023).
    Instance {
        name: "c7gn.16xlarge",
        vcpus: 64.0,
        usd_per_hour: 3.9936,
        gbps: 200.0,
    },
];

/// Network Load Balancer, USD per hour it runs (per load balancer, whatever the
/// traffic; about $16 a month).
pub(crate) const NLB_USD_PER_HOUR: f64 = 0.0225;
/// Network Load Balancer, USD per NLCU-hour.
pub(crate) const NLB_USD_PER_NLCU_HOUR: f64 = 0.006;
/// Bytes processed per hour that make one NLCU for TCP traffic (1 GB; the other
/// TCP dimensions, 800 new connections a second and 100,000 active connections,
/// are far from binding for an exchange's keep-alive connections). Taken as 10^9
/// bytes, which overstates the charge slightly if AWS counts 2^30.
pub(crate) const NLB_BYTES_PER_NLCU_HOUR: f64 = 1e9;

/// API Gateway HTTP API, per month: (requests in the tier, USD per million).
/// First 300 million $1.00, beyond $0.90.
pub(crate) const HTTP_API_TIERS: [(f64, f64); 2] = [(300e6, 1.00), (f64::INFINITY, 0.90)];
/// API Gateway REST API, per month: (requests in the tier, USD per million).
/// First 333 million $3.50, next 667 million $2.80, next 19 billion $2.38,
/// beyond 20 billion $1.51.
pub(crate) const REST_API_TIERS: [(f64, f64); 4] = [
    (333e6, 3.50),
    (667e6, 2.80),
    (19e9, 2.38),
    (f64::INFINITY, 1.51),
];

/// Lambda, USD per million requests (x86 and Arm alike).
pub(crate) const LAMBDA_USD_PER_MILLION_REQUESTS: f64 = 0.20;
/// Lambda on Arm (Graviton2), USD per GB-second of duration: the first tier
/// (first 7.5 billion GB-seconds a month).
pub(crate) const LAMBDA_ARM_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;

/// DynamoDB on-demand, USD per million read request units (one RRU: a strongly
/// consistent read of up to 4 KB, or two eventually consistent ones); $0.25
/// before 2024-11-01.
pub(crate) const DYNAMODB_USD_PER_MILLION_RRU: f64 = 0.125;

/// Data transfer out of AWS to the internet, USD per GB: the first 10 TB of a
/// month, after the free 100 GB.
pub(crate) const DATA_OUT_USD_PER_GB: f64 = 0.09;
