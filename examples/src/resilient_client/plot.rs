//! The flagship's chart: for each client, latency over time above each
//! backend's share of the attempts over time, with the moment the doomed
//! backend went down marked in both.

use std::time::Duration;

use donjon::BoxError;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Report;
use super::report::nearest_rank;

/// The chart's size, in pixels.
const WIDTH: u32 = 1500;
const HEIGHT: u32 = 900;
/// The band above the panels, for the title and the legend.
const HEADER: u32 = 84;

const FONT: &str = "sans-serif";
const P50: RGBColor = RGBColor(0x4a, 0x90, 0xd9);
const P99: RGBColor = RGBColor(0x0b, 0x2e, 0x59);
const FAILED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const MARKER: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// A colour per backend, in the order of [`Report::spread`]; backends past
/// the fourth reuse them.
const BACKENDS: [RGBColor; 4] = [
    RGBColor(0x3a, 0xa6, 0x5a),
    RGBColor(0xf2, 0xa1, 0x2c),
    RGBColor(0x9b, 0x6a, 0xd0),
    RGBColor(0x9a, 0x9a, 0x9a),
];
/// The latency axis starts here: faster answers and failures (a refused
/// connection fails in well under a millisecond) are drawn on it.
const LATENCY_FLOOR_MS: f64 = 0.1;

/// Draws `reports` side by side as an SVG document, under `title`.
///
/// Each client gets a column of two panels, titled `<client>: latency` and
/// `<client>: share of attempts`. Time runs from the client's first request
/// to its last answer, cut into intervals of about 200 requests (4 to 40 of
/// them). The latency panel draws each interval's p50 and p99 (of the
/// requests sent in it, failed or not) on a logarithmic scale shared by all
/// the columns, and each failed request as a dot; the share panel stacks each
/// backend's share of the attempts started in each interval. A dashed line
/// labelled `doomed down` marks when the doomed backend went down, in every
/// panel.
///
/// # Errors
///
/// If plotters fails to draw; drawing into a string does not fail
/// otherwise.
pub fn plot(title: &str, reports: &[&Report]) -> Result<String, BoxError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(HEADER);
        let names: Vec<&str> = reports
            .first()
            .map(|report| {
                report
                    .spread
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        draw_header(&header, title, &names)?;
        let latency_top = latency_ceiling_ms(reports);
        let columns = body
            .margin(0, 8, 8, 8)
            .split_evenly((1, reports.len().max(1)));
        for (column, report) in columns.iter().zip(reports) {
            let height = column.dim_in_pixel().1;
            let (top, bottom) = column.split_vertically(height / 2);
            let intervals = Intervals::new(report);
            draw_latency(&top, report, &intervals, latency_top)?;
            draw_shares(&bottom, report, &intervals)?;
        }
        root.present()?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The title, then a legend: the backends' colours, then the latency
/// panels' marks.
fn draw_header(area: &Area<'_>, title: &str, names: &[&str]) -> Result<(), BoxError> {
    let title_style = (FONT, 20).into_font().style(FontStyle::Bold).color(&BLACK);
    area.draw_text(title, &title_style, (16, 12))?;

    let text = (FONT, 15).into_font().color(&BLACK);
    let y = 52;
    let mut x = 16;
    let label = |x: &mut i32, words: &str| -> Result<(), BoxError> {
        area.draw_text(words, &text, (*x, y - 8))?;
        let (width, _) = area.estimate_text_size(words, &text)?;
        *x += width as i32 + 22;
        Ok(())
    };
    label(&mut x, "attempts to:")?;
    for (index, name) in names.iter().enumerate() {
        let colour = BACKENDS[index % BACKENDS.len()];
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 14, y + 7)],
            colour.filled(),
        ))?;
        x += 20;
        label(&mut x, name)?;
    }
    x += 30;
    label(&mut x, "latency per interval:")?;
    for (words, colour, width) in [("p50", P50, 2), ("p99", P99, 3)] {
        area.draw(&PathElement::new(
            [(x, y), (x + 26, y)],
            colour.stroke_width(width),
        ))?;
        x += 32;
        label(&mut x, words)?;
    }
    area.draw(&Circle::new((x + 6, y), 3, FAILED.mix(0.6).filled()))?;
    x += 16;
    label(&mut x, "failed request")?;
    x += 30;
    area.draw(&PathElement::new(
        [(x, y), (x + 8, y)],
        MARKER.stroke_width(2),
    ))?;
    area.draw(&PathElement::new(
        [(x + 14, y), (x + 22, y)],
        MARKER.stroke_width(2),
    ))?;
    x += 30;
    label(&mut x, "doomed down: when the doomed backend went down")?;
    Ok(())
}

/// The top of the latency axis, in ms: the power of ten above the slowest
/// request of any report, so that the columns share one scale.
fn latency_ceiling_ms(reports: &[&Report]) -> f64 {
    let slowest = reports
        .iter()
        .map(|report| millis(report.max()))
        .fold(1.0, f64::max);
    10f64.powf(slowest.log10().ceil()).max(10.0)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// About how many requests an interval holds: enough for its p99 to differ
/// from its maximum.
const REQUESTS_PER_INTERVAL: usize = 200;

/// A run's time axis, cut into equal intervals.
struct Intervals {
    /// The run's length, in seconds.
    end: f64,
    count: usize,
}

impl Intervals {
    fn new(report: &Report) -> Self {
        Intervals {
            // A run too short to measure still gets an axis.
            end: report.elapsed.as_secs_f64().max(0.001),
            count: (report.requests / REQUESTS_PER_INTERVAL).clamp(4, 40),
        }
    }

    fn width(&self) -> f64 {
        self.end / self.count as f64
    }

    /// The interval `at` falls in.
    fn index(&self, at: Duration) -> usize {
        ((at.as_secs_f64() / self.width()) as usize).min(self.count - 1)
    }

    /// Where interval `index` starts and ends, in seconds.
    fn bounds(&self, index: usize) -> (f64, f64) {
        (
            index as f64 * self.width(),
            (index + 1) as f64 * self.width(),
        )
    }
}

/// The panel's caption style.
fn caption_style() -> TextStyle<'static> {
    (FONT, 18).into_font().style(FontStyle::Bold).color(&BLACK)
}

fn axis_style() -> TextStyle<'static> {
    (FONT, 13).into_font().color(&BLACK)
}

/// Each interval's p50 and p99 latency, and each failed request.
fn draw_latency(
    area: &Area<'_>,
    report: &Report,
    intervals: &Intervals,
    top_ms: f64,
) -> Result<(), BoxError> {
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{}: latency", report.kind.name()), caption_style())
        .margin(8)
        .margin_right(16)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..intervals.end, (LATENCY_FLOOR_MS..top_ms).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run started")
        .y_desc("latency (ms, log scale)")
        .x_label_formatter(&|seconds| format!("{seconds:.1}"))
        .y_label_formatter(&|ms| {
            if *ms < 1.0 {
                format!("{ms:.1}")
            } else {
                format!("{ms:.0}")
            }
        })
        .label_style(axis_style())
        .axis_desc_style(axis_style())
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;

    let mut latencies: Vec<Vec<Duration>> = vec![Vec::new(); intervals.count];
    for sample in &report.samples {
        latencies[intervals.index(sample.sent)].push(sample.latency);
    }
    let floor = |ms: f64| ms.max(LATENCY_FLOOR_MS);
    let mut p50 = Vec::new();
    let mut p99 = Vec::new();
    for (index, interval) in latencies.iter_mut().enumerate() {
        if interval.is_empty() {
            continue;
        }
        interval.sort_unstable();
        let (start, end) = intervals.bounds(index);
        let middle = (start + end) / 2.0;
        p50.push((middle, floor(millis(nearest_rank(interval, 0.50)))));
        p99.push((middle, floor(millis(nearest_rank(interval, 0.99)))));
    }
    chart.draw_series(
        report
            .samples
            .iter()
            .filter(|sample| !sample.succeeded)
            .map(|sample| {
                let at = (sample.sent.as_secs_f64(), floor(millis(sample.latency)));
                Circle::new(at, 2, FAILED.mix(0.35).filled())
            }),
    )?;
    chart.draw_series(LineSeries::new(p50, P50.stroke_width(2)))?;
    chart.draw_series(LineSeries::new(p99, P99.stroke_width(3)))?;

    mark_down(
        &mut chart,
        report.down_at,
        (LATENCY_FLOOR_MS, top_ms),
        intervals.end,
    )
}

/// Each backend's share of the attempts started in each interval, stacked.
fn draw_shares(area: &Area<'_>, report: &Report, intervals: &Intervals) -> Result<(), BoxError> {
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{}: share of attempts", report.kind.name()),
            caption_style(),
        )
        .margin(8)
        .margin_right(16)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..intervals.end, 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run started")
        .y_desc("share of attempts (%)")
        .x_label_formatter(&|seconds| format!("{seconds:.1}"))
        .y_label_formatter(&|share| format!("{share:.0}"))
        .label_style(axis_style())
        .axis_desc_style(axis_style())
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;

    // counts[backend][interval]
    let counts: Vec<Vec<u64>> = report
        .attempt_times
        .iter()
        .map(|(_, times)| {
            let mut counts = vec![0; intervals.count];
            for at in times {
                counts[intervals.index(*at)] += 1;
            }
            counts
        })
        .collect();
    let totals: Vec<u64> = (0..intervals.count)
        .map(|interval| counts.iter().map(|backend| backend[interval]).sum())
        .collect();
    // Backend `k`'s band spans from the sum of the shares before it to the
    // sum up to it; painting the sums from the largest down leaves each band
    // its own colour. Each interval is a flat step.
    for backend in (0..counts.len()).rev() {
        let mut outline = Vec::with_capacity(2 * intervals.count);
        for (interval, total) in totals.iter().enumerate() {
            let below: u64 = counts[..=backend].iter().map(|b| b[interval]).sum();
            let share = if *total == 0 {
                0.0
            } else {
                100.0 * below as f64 / *total as f64
            };
            let (start, end) = intervals.bounds(interval);
            outline.push((start, share));
            outline.push((end, share));
        }
        let colour = BACKENDS[backend % BACKENDS.len()];
        chart.draw_series(AreaSeries::new(outline, 0.0, colour.filled()))?;
    }

    mark_down(&mut chart, report.down_at, (0.0, 100.0), intervals.end)
}

/// Marks when the doomed backend went down: a dashed line across `chart`
/// at `down` from `bottom` to `top`, labelled `doomed down` at the top, to
/// its right, or to its left when the line is in the last fifth of the
/// axis.
fn mark_down<Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, Y>>,
    down: Duration,
    (bottom, top): (f64, f64),
    end: f64,
) -> Result<(), BoxError>
where
    Y: Ranged<ValueType = f64>,
{
    let down = down.as_secs_f64();
    chart.draw_series(DashedLineSeries::new(
        [(down, bottom), (down, top)],
        8,
        6,
        MARKER.stroke_width(2),
    ))?;
    // On a white patch, so that it reads over the stacked bands. The SVG
    // leaves the font to the viewer: the patch is wide enough for a wide
    // bold sans-serif.
    const LABEL_WIDTH: i32 = 100;
    // Where the text is anchored, and where the patch starts, in pixels
    // from the line.
    let (anchor, x, left) = if down > 0.8 * end {
        (HPos::Right, -6, -6 - LABEL_WIDTH)
    } else {
        (HPos::Left, 6, 6)
    };
    let style = (FONT, 14)
        .into_font()
        .style(FontStyle::Bold)
        .color(&MARKER)
        .pos(Pos::new(anchor, VPos::Top));
    let patch = Rectangle::new(
        [(left - 3, 2), (left + LABEL_WIDTH + 3, 22)],
        WHITE.mix(0.85).filled(),
    );
    chart.draw_series(std::iter::once(
        EmptyElement::at((down, top)) + patch + Text::new("doomed down", (x, 5), style),
    ))?;
    Ok(())
}
