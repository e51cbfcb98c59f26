//! TCP's inner state over time: per socket, cwnd and bytes in flight (in
//! segments) and rtt, from the relay's `tcp_info` samples, as small SVG plots.
//! The points are computed by pure functions (tested natively).

use yew::prelude::*;

use socklab_wire::decimal;
use socklab_wire::protocol::SockId;

/// One `tcp_info` sample, as the plot keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub sock: SockId,
    pub ts_us: u64,
    pub cwnd: u32,
    /// Segments in flight (`unacked`).
    pub in_flight: u32,
    pub rtt_us: u32,
    pub total_retrans: u32,
}

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 90.0;
const PAD: f64 = 4.0;

/// A round-trip time as people read it: `35 µs`, `40.1 ms`.
pub fn rtt(us: f64) -> String {
    if us < 1000.0 { format!("{} µs", decimal::fixed(us, 0)) } else { format!("{} ms", decimal::fixed(us / 1000.0, 1)) }
}

/// The sockets that have samples, in order of their first.
pub fn sockets(samples: &[Sample]) -> Vec<SockId> {
    let mut socks = Vec::new();
    for s in samples {
        if !socks.contains(&s.sock) {
            socks.push(s.sock);
        }
    }
    socks
}

/// An SVG polyline's points for `value` over time, scaled to the plot: time
/// from the first sample to the last, values from 0 to `top`. A step line:
/// each value holds until the next sample.
pub fn polyline(samples: &[&Sample], value: impl Fn(&Sample) -> f64, top: f64) -> String {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return String::new();
    };
    let span = (last.ts_us.saturating_sub(first.ts_us)).max(1) as f64;
    let x = |s: &Sample| PAD + (s.ts_us.saturating_sub(first.ts_us)) as f64 / span * (WIDTH - 2.0 * PAD);
    let y = |v: f64| HEIGHT - PAD - (v / top.max(1e-9)).clamp(0.0, 1.0) * (HEIGHT - 2.0 * PAD);
    let mut points = Vec::with_capacity(samples.len() * 2);
    let mut previous: Option<f64> = None;
    for s in samples {
        if let Some(before) = previous {
            points.push(format!("{},{}", decimal::fixed(x(s), 1), decimal::fixed(y(before), 1)));
        }
        let v = value(s);
        points.push(format!("{},{}", decimal::fixed(x(s), 1), decimal::fixed(y(v), 1)));
        previous = Some(v);
    }
    points.join(" ")
}

#[derive(Properties, PartialEq)]
pub struct TcpPlotProps {
    pub samples: Vec<Sample>,
    /// The script's name for a socket, where it has one.
    pub names: Vec<(SockId, String)>,
}

/// Per socket: cwnd and segments in flight on one plot, rtt on another.
#[component]
pub fn TcpPlot(props: &TcpPlotProps) -> Html {
    if props.samples.is_empty() {
        return Html::default();
    }
    let plots = sockets(&props.samples).into_iter().map(|sock| {
        let mine: Vec<&Sample> = props.samples.iter().filter(|s| s.sock == sock).collect();
        let name = props.names.iter().find(|(s, _)| *s == sock).map_or_else(|| format!("socket#{sock}"), |(_, n)| n.clone());
        let segments = mine.iter().map(|s| s.cwnd.max(s.in_flight)).max().unwrap_or(1).max(1);
        let segments_top = f64::from(segments);
        let rtt_top = mine.iter().map(|s| s.rtt_us).max().unwrap_or(1).max(1) as f64;
        let last = mine.last().copied().copied().unwrap_or(Sample { sock, ts_us: 0, cwnd: 0, in_flight: 0, rtt_us: 0, total_retrans: 0 });
        let view = format!("0 0 {} {}", decimal::short(WIDTH), decimal::short(HEIGHT));
        html! {
            <div class="tcp-plot" data-sock={sock.to_string()}>
                <p class="tcp-plot-title">
                    { format!("{name}: cwnd {} · in flight {} · rtt {} · retransmitted {}", last.cwnd, last.in_flight, rtt(f64::from(last.rtt_us)), last.total_retrans) }
                </p>
                <svg class="segments" viewBox={view.clone()} role="img" aria-label={format!("{name}: cwnd and segments in flight over time, up to {segments}")}>
                    <polyline class="cwnd" points={polyline(&mine, |s| f64::from(s.cwnd), segments_top)} />
                    <polyline class="in-flight" points={polyline(&mine, |s| f64::from(s.in_flight), segments_top)} />
                    <text x="4" y="12">{ format!("{segments} segments") }</text>
                </svg>
                <svg class="rtt" viewBox={view} role="img" aria-label={format!("{name}: rtt over time, up to {}", rtt(rtt_top))}>
                    <polyline class="rtt" points={polyline(&mine, |s| f64::from(s.rtt_us), rtt_top)} />
                    <text x="4" y="12">{ rtt(rtt_top) }</text>
                </svg>
            </div>
        }
    });
    html! {
        <figure class="tcp-plots" tabindex="0">
            <figcaption>{ "Inside TCP (TCP_INFO): " }<span class="cwnd">{ "cwnd" }</span>{ ", " }<span class="in-flight">{ "in flight" }</span>{ ", " }<span class="rtt">{ "rtt" }</span></figcaption>
            { for plots }
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(sock: SockId, ts_us: u64, cwnd: u32) -> Sample {
        Sample { sock, ts_us, cwnd, in_flight: 0, rtt_us: 0, total_retrans: 0 }
    }

    #[test]
    fn points_span_the_plot_as_steps() {
        let samples = [sample(2, 100, 10), sample(3, 150, 4), sample(2, 200, 5)];
        assert_eq!(sockets(&samples), [2, 3]);
        let mine: Vec<&Sample> = samples.iter().filter(|s| s.sock == 2).collect();
        // cwnd 10 (the top) from the left edge, then down to 5 at the right edge.
        assert_eq!(polyline(&mine, |s| f64::from(s.cwnd), 10.0), "4.0,4.0 356.0,4.0 356.0,45.0");
        assert_eq!(polyline(&[], |s| f64::from(s.cwnd), 10.0), "");
        // One sample: no division by a zero span; values past the top are clamped.
        assert_eq!(polyline(&mine[..1], |_| 20.0, 10.0), "4.0,4.0");
        assert_eq!((rtt(35.0), rtt(40_120.0)), ("35 µs".to_owned(), "40.1 ms".to_owned()));
    }
}
