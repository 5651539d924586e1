//! Charts drawn on the server as SVG: what a page shows without JavaScript, and the chart of a
//! metric across model versions. Long series are reduced to the lowest and highest value of
//! each pixel column (in their order), so spikes stay visible however many points there are.

use std::fmt::Write;

/// The colours of successive series (the same as the script's).
pub const PALETTE: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const PAD_LEFT: f64 = 56.0;
const PAD_RIGHT: f64 = 12.0;
const PAD_TOP: f64 = 10.0;
const PAD_BOTTOM: f64 = 24.0;

/// At most two points per pixel column of `columns`: the lowest and the highest, in x order.
/// `points` are sorted by x.
pub fn downsample(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= columns * 2 || columns == 0 {
        return points.to_vec();
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let span = (x1 - x0).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(columns * 2);
    let mut i = 0;
    while i < points.len() {
        let col = (((points[i].0 - x0) / span) * (columns - 1) as f64) as usize;
        let (mut lo, mut hi) = (i, i);
        let mut j = i + 1;
        while j < points.len() && ((((points[j].0 - x0) / span) * (columns - 1) as f64) as usize) == col {
            if points[j].1 < points[lo].1 {
                lo = j;
            }
            if points[j].1 > points[hi].1 {
                hi = j;
            }
            j += 1;
        }
        out.push(points[lo.min(hi)]);
        if lo != hi {
            out.push(points[lo.max(hi)]);
        }
        i = j;
    }
    out
}

/// Where data values land in the plot area.
struct Scale {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    log: bool,
}

impl Scale {
    fn y_of(&self, v: f64) -> f64 {
        if self.log { v.max(f64::MIN_POSITIVE).log10() } else { v }
    }

    fn px(&self, x: f64, y: f64) -> (f64, f64) {
        let w = WIDTH - PAD_LEFT - PAD_RIGHT;
        let h = HEIGHT - PAD_TOP - PAD_BOTTOM;
        let fx = if self.x1 > self.x0 { (x - self.x0) / (self.x1 - self.x0) } else { 0.5 };
        let yv = self.y_of(y);
        let fy = if self.y1 > self.y0 { (yv - self.y0) / (self.y1 - self.y0) } else { 0.5 };
        (PAD_LEFT + fx * w, PAD_TOP + (1.0 - fy) * h)
    }
}

/// A line chart of `series` (each sorted by x), with `marks` drawn as rings on top. Only
/// numbers go into the markup, so it holds nothing that needs escaping.
pub fn line_svg(series: &[Vec<(f64, f64)>], marks: &[(f64, f64)], log_y: bool) -> String {
    let columns = (WIDTH - PAD_LEFT - PAD_RIGHT) as usize;
    let series: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            downsample(&s.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect::<Vec<_>>(), columns)
        })
        .collect();
    let all = || series.iter().flatten();
    let mut scale =
        Scale { x0: f64::INFINITY, x1: f64::NEG_INFINITY, y0: f64::INFINITY, y1: f64::NEG_INFINITY, log: log_y };
    for &(x, y) in all() {
        let yv = scale.y_of(y);
        scale.x0 = scale.x0.min(x);
        scale.x1 = scale.x1.max(x);
        scale.y0 = scale.y0.min(yv);
        scale.y1 = scale.y1.max(yv);
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    if all().next().is_none() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">no values</text></svg>"#,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return svg;
    }
    // Axes and the range of each, as numbers at the corners.
    let (left, bottom) = (PAD_LEFT, HEIGHT - PAD_BOTTOM);
    let _ = write!(svg, r##"<path d="M{left} {PAD_TOP}V{bottom}H{}" fill="none" stroke="#999"/>"##, WIDTH - PAD_RIGHT);
    let unlog = |v: f64| if log_y { 10f64.powf(v) } else { v };
    let _ = write!(
        svg,
        r#"<text class="tick" x="{}" y="{}" text-anchor="end">{}</text><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
        left - 4.0,
        PAD_TOP + 10.0,
        crate::fmt::num(unlog(scale.y1)),
        left - 4.0,
        bottom,
        crate::fmt::num(unlog(scale.y0)),
    );
    let _ = write!(
        svg,
        r#"<text class="tick" x="{left}" y="{}">{}</text><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
        HEIGHT - 6.0,
        crate::fmt::num(scale.x0),
        WIDTH - PAD_RIGHT,
        HEIGHT - 6.0,
        crate::fmt::num(scale.x1),
    );
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        if s.len() == 1 {
            let (x, y) = scale.px(s[0].0, s[0].1);
            let _ = write!(svg, r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"#);
            continue;
        }
        let mut d = String::with_capacity(s.len() * 14);
        for (k, &(x, y)) in s.iter().enumerate() {
            let (px, py) = scale.px(x, y);
            let _ = write!(d, "{}{px:.1} {py:.1}", if k == 0 { 'M' } else { 'L' });
        }
        let _ = write!(svg, r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#);
        for &(x, y) in s.iter().take(200).filter(|_| s.len() <= 200) {
            let (px, py) = scale.px(x, y);
            let _ = write!(svg, r#"<circle cx="{px:.1}" cy="{py:.1}" r="2.5" fill="{colour}"/>"#);
        }
    }
    for &(x, y) in marks {
        let (px, py) = scale.px(x, y);
        let _ = write!(
            svg,
            r##"<circle class="mark" cx="{px:.1}" cy="{py:.1}" r="7" fill="none" stroke="#e6a700" stroke-width="3"/>"##
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_the_extremes_of_each_column() {
        let mut points: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, (i % 7) as f64)).collect();
        points[54_321].1 = 1000.0;
        points[77_777].1 = -1000.0;
        let d = downsample(&points, 500);
        assert!(d.len() <= 1000, "{}", d.len());
        assert!(d.contains(&(54_321.0, 1000.0)));
        assert!(d.contains(&(77_777.0, -1000.0)));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(downsample(&points[..10], 500).len(), 10);
    }

    #[test]
    fn an_svg_holds_only_numbers() {
        let svg = line_svg(&[vec![(0.0, 1.0), (1.0, 2.0)]], &[(1.0, 2.0)], false);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.contains("class=\"mark\""));
        assert!(line_svg(&[vec![]], &[], true).contains("no values"));
    }
}
