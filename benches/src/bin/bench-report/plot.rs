//! The latency plot: every server's latency by percentile at the common rate.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;

use crate::load::Phase;
use crate::{COLORS, SERVERS};

/// Latency by percentile for every server at both fixed rates: x is the
/// percentile on the usual "nines" scale, y the latency in µs (log scale).
pub(crate) fn plot(phases: &BTreeMap<(String, String), Phase>, path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let nines = |p: f64| -(1.0 - (p / 100.0).min(0.99999)).log10();
    let mut y_max: f64 = 100.0;
    for ((_, phase), p) in phases {
        if phase == "common" {
            for (_, us) in &p.percentiles {
                y_max = y_max.max(*us);
            }
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Latency by percentile at the common fixed rate (CO-corrected)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..5f64, (5f64..y_max * 1.5).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_labels(6)
        .x_label_formatter(&|x| match x.round() as i64 {
            0 => "0%".into(),
            1 => "90%".into(),
            2 => "99%".into(),
            3 => "99.9%".into(),
            4 => "99.99%".into(),
            _ => "99.999%".into(),
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for (i, (server, label)) in SERVERS.iter().enumerate() {
        for phase in ["common"] {
            let Some(p) = phases.get(&((*server).to_owned(), phase.to_owned())) else {
                continue;
            };
            let color = COLORS[i % COLORS.len()];
            let style = color.stroke_width(2);
            let points: Vec<(f64, f64)> = p
                .percentiles
                .iter()
                .map(|(pct, us)| (nines(*pct), us.max(5.0)))
                .collect();
            let name = (*label).to_owned();
            chart
                .draw_series(LineSeries::new(points, style))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
