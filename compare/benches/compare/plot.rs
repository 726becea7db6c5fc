//! `docs/benchmarks.svg`: one log–log panel per rotation scenario (time in ms against the
//! group size), one line per library (a colour and a marker each), legend in every panel.

use std::path::Path;

use plotters::prelude::*;

use super::report::{Results, GROUPS, LIBRARIES};

/// meetkey blue, OpenMLS orange, mls-rs green.
const COLOURS: [RGBColor; 3] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
];

/// Draws the plot of `r` to `path`.
pub(crate) fn draw(r: &Results, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let scenarios: Vec<_> = GROUPS
        .iter()
        .flat_map(|(_, s)| s.iter())
        .filter(|s| s.plotted)
        .collect();
    let rows = scenarios.len().div_ceil(2);
    let root = SVGBackend::new(path, (1100, 60 + 330 * rows as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "meetkey vs OpenMLS vs mls-rs, suite 0x0001: median time (ms) against group size, log–log",
        ("sans-serif", 20),
    )?;
    let panels = root.split_evenly((rows, 2));
    let x_max = r.sizes.iter().copied().max().unwrap_or(10).max(100) as f64;
    for (panel, sc) in panels.iter().zip(&scenarios) {
        let lines: Vec<(usize, Vec<(f64, f64)>)> = LIBRARIES
            .iter()
            .enumerate()
            .map(|(i, lib)| {
                let pts = r
                    .sizes
                    .iter()
                    .filter_map(|&n| r.ms(sc.id, lib, n).map(|ms| (n as f64, ms)))
                    .collect();
                (i, pts)
            })
            .collect();
        let ys: Vec<f64> = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|&(_, y)| y))
            .collect();
        if ys.is_empty() {
            continue;
        }
        // Whole decades, so every panel has labelled powers of ten on its y axis.
        let y_min = 10f64.powf(
            (ys.iter().copied().fold(f64::INFINITY, f64::min) / 1.5)
                .log10()
                .floor(),
        );
        let y_max = 10f64.powf(
            (ys.iter().copied().fold(0.0, f64::max) * 1.5)
                .log10()
                .ceil(),
        );
        let mut chart = ChartBuilder::on(panel)
            .caption(sc.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d((7.0..x_max * 1.4).log_scale(), (y_min..y_max).log_scale())?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .x_desc("members")
            .y_desc("ms")
            .x_label_formatter(&|x| label(*x, &[1.0]))
            .y_label_formatter(&|y| label(*y, &[1.0, 2.0, 5.0]))
            .draw()?;
        for (i, pts) in lines {
            if pts.is_empty() {
                continue;
            }
            let colour = COLOURS[i];
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?
                .label(LIBRARIES[i])
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            match i {
                0 => {
                    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
                }
                1 => {
                    chart.draw_series(
                        pts.iter()
                            .map(|&p| TriangleMarker::new(p, 5, colour.filled())),
                    )?;
                }
                _ => {
                    chart.draw_series(
                        pts.iter()
                            .map(|&p| Cross::new(p, 4, colour.stroke_width(2))),
                    )?;
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// The tick label of `v` if its leading digit is one of `digits` (1, 2, 5: a readable log
/// axis), else nothing.
fn label(v: f64, digits: &[f64]) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let decade = 10f64.powf(v.log10().floor());
    let lead = (v / decade).round();
    if !digits.contains(&lead) || (v / decade - lead).abs() > 1e-6 {
        return String::new();
    }
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let places = (-v.log10().floor()) as usize;
        format!("{v:.places$}")
    }
}
