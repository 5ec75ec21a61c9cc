//! The time scrubber: a range over this branch of the run, with marks for faults, leader
//! changes, commits and violations. Marks are bucketed (at most [`BUCKETS`] per kind across the
//! bar) so that a long run's thousands of markers stay a few hundred elements, and they are
//! placed with CSS variables so that the bar growing every frame does not re-render them.

use crate::fixed::{fixed, push_fixed, seconds};
use crate::model::{Marker, MarkerKind};
use deepend_core::SimTime;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement};
use yew::prelude::*;

/// Roughly how many buckets span the bar.
pub const BUCKETS: u64 = 256;

const KINDS: [MarkerKind; 4] = [
    MarkerKind::Fault,
    MarkerKind::Leader,
    MarkerKind::Commit,
    MarkerKind::Violation,
];

fn kind_legend(kind: MarkerKind) -> &'static str {
    match kind {
        MarkerKind::Fault => "fault",
        MarkerKind::Leader => "new leader",
        MarkerKind::Commit => "commit",
        MarkerKind::Violation => "violation",
    }
}

/// One drawn mark: the first marker of its bucket and kind, and how many it stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub time: SimTime,
    pub kind: MarkerKind,
    pub label: String,
    pub count: usize,
}

/// A bucket width in microseconds: a power of two, so it changes only when the run doubles.
pub fn bucket_width_us(horizon: SimTime) -> u64 {
    (horizon.as_us() / BUCKETS).max(1).next_power_of_two()
}

/// The span the marks are laid out over: all the buckets, at least the horizon.
fn span_us(horizon: SimTime) -> u64 {
    bucket_width_us(horizon) * BUCKETS
}

/// Groups markers (in time order) by bucket and kind.
pub fn bucket(markers: &[Marker], width_us: u64) -> Vec<Mark> {
    let mut marks: Vec<Mark> = Vec::new();
    // The latest mark of each kind: markers come in time order, so a bucket's marks of one
    // kind are contiguous in this sense.
    let mut open: [Option<(u64, usize)>; 4] = [None; 4];
    for m in markers {
        let k = KINDS.iter().position(|&k| k == m.kind).unwrap_or(0);
        let b = m.time.as_us() / width_us;
        match open[k] {
            Some((ob, i)) if ob == b => marks[i].count += 1,
            _ => {
                open[k] = Some((b, marks.len()));
                marks.push(Mark {
                    time: m.time,
                    kind: m.kind,
                    label: m.label.clone(),
                    count: 1,
                });
            }
        }
    }
    marks
}

/// One vertical stroke per commit mark, at its bucket (the lane's viewBox is the buckets).
fn commit_path(commits: &[&Mark], width_us: u64) -> String {
    let mut d = String::new();
    for m in commits {
        let at = m.time.as_us() as f64 / width_us as f64;
        d.push('M');
        push_fixed(&mut d, at, 2);
        d.push_str(" 0V1");
    }
    d
}

fn title(mark: &Mark) -> String {
    let at = seconds(mark.time.as_us());
    match mark.count {
        1 => format!("{at}: {}", mark.label),
        n => format!("{at}: {} and {} more", mark.label, n - 1),
    }
}

#[derive(Properties, PartialEq)]
pub struct ScrubberProps {
    pub now: SimTime,
    pub horizon: SimTime,
    pub markers: Rc<Vec<Marker>>,
    /// The horizon the marks are spread over: the horizon when `markers` was taken.
    pub markers_horizon: SimTime,
    pub on_seek: Callback<SimTime>,
}

#[function_component]
pub fn Scrubber(props: &ScrubberProps) -> Html {
    let horizon_us = props.horizon.as_us().max(1);
    let on_input = {
        let on_seek = props.on_seek.clone();
        Callback::from(move |e: InputEvent| {
            let input: Option<HtmlInputElement> = e.target().and_then(|t| t.dyn_into().ok());
            if let Some(us) = input.map(|i| i.value_as_number()).filter(|us| !us.is_nan()) {
                on_seek.emit(SimTime::from_us(us.max(0.0) as u64));
            }
        })
    };
    // The browser's own arrow step would be one microsecond: move by a hundredth of the run
    // instead, a tenth with Page Up/Down.
    let on_keydown = {
        let (on_seek, now) = (props.on_seek.clone(), props.now.as_us());
        Callback::from(move |e: KeyboardEvent| {
            let small = (horizon_us / 100).max(1_000);
            let big = (horizon_us / 10).max(10_000);
            let target = match e.key().as_str() {
                "ArrowLeft" | "ArrowDown" => now.saturating_sub(small),
                "ArrowRight" | "ArrowUp" => now + small,
                "PageDown" => now.saturating_sub(big),
                "PageUp" => now + big,
                "Home" => 0,
                "End" => horizon_us,
                _ => return,
            };
            e.prevent_default();
            on_seek.emit(SimTime::from_us(target.min(horizon_us)));
        })
    };
    let now_us = props.now.as_us().min(horizon_us);
    let marks_horizon = props.markers_horizon.min(props.horizon);
    html! {
        <div class="scrubber">
            <div class="marks">
                // The marks sit at their share of the bucketed span (a power of two at least
                // their horizon, so it changes rarely); this one width stretches that span over
                // the track, and changes only when the marks do: a playing frame moves no mark.
                <div class="marks-span" style={format!("width:{}%", fixed(span_us(marks_horizon) as f64 * 100.0 / marks_horizon.as_us().max(1) as f64, 4))}>
                    <MarkLayer markers={props.markers.clone()} width_us={bucket_width_us(marks_horizon)}
                               on_seek={props.on_seek.clone()} />
                </div>
            </div>
            <input type="range" class="scrubber-range" min="0" max={horizon_us.to_string()} step="1"
                   value={now_us.to_string()} oninput={on_input} onkeydown={on_keydown}
                   aria-label="Simulated time"
                   aria-valuetext={format!("{} of {}", seconds(now_us), seconds(horizon_us))} />
            <ul class="scrubber-legend" aria-label="Marker legend">
                { for KINDS.iter().map(|&k| html! {
                    <li><span class={classes!("mark", k.as_str())} aria-hidden="true"></span>{ kind_legend(k) }</li>
                }) }
            </ul>
        </div>
    }
}

#[derive(Properties)]
struct MarkLayerProps {
    markers: Rc<Vec<Marker>>,
    width_us: u64,
    on_seek: Callback<SimTime>,
}

impl PartialEq for MarkLayerProps {
    /// The model hands out the same `Rc` while the markers have not changed: comparing pointers
    /// first saves comparing thousands of labels every frame (and lists that grew differ in
    /// length, which `Vec`'s comparison checks first).
    fn eq(&self, other: &Self) -> bool {
        (Rc::ptr_eq(&self.markers, &other.markers) || self.markers == other.markers)
            && self.width_us == other.width_us
            && self.on_seek == other.on_seek
    }
}

#[function_component]
fn MarkLayer(props: &MarkLayerProps) -> Html {
    let marks = bucket(&props.markers, props.width_us);
    let span = (props.width_us * BUCKETS) as f64;
    // One listener for all marks: a click seeks to the mark's time.
    let onclick = {
        let on_seek = props.on_seek.clone();
        Callback::from(move |e: MouseEvent| {
            let element: Option<Element> = e.target().and_then(|t| t.dyn_into().ok());
            if let Some(us) = element
                .and_then(|el| el.get_attribute("data-t"))
                .and_then(|t| t.parse::<u64>().ok())
            {
                on_seek.emit(SimTime::from_us(us));
            }
        })
    };
    // Commits are most of the marks (one a bucket while a run is busy): one path draws them
    // all, in bucket units, and stretches with the span at no cost per mark. A click on the
    // lane goes to the nearest commit.
    let (commits, others): (Vec<&Mark>, Vec<&Mark>) = marks.iter().partition(|m| m.kind == MarkerKind::Commit);
    let on_lane = {
        let on_seek = props.on_seek.clone();
        let times: Vec<u64> = commits.iter().map(|m| m.time.as_us()).collect();
        Callback::from(move |e: MouseEvent| {
            let Some(lane) = e.current_target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            let r = lane.get_bounding_client_rect();
            if r.width() > 0.0 {
                let at = ((f64::from(e.client_x()) - r.left()) / r.width() * span).max(0.0) as u64;
                if let Some(&t) = times.iter().min_by_key(|&&t| t.abs_diff(at)) {
                    on_seek.emit(SimTime::from_us(t));
                }
            }
        })
    };
    let lane_title = match commits.iter().map(|m| m.count).sum::<usize>() {
        0 => String::new(),
        n => format!("{n} commits: click to go to the nearest"),
    };
    html! {
        <div class="marks-layer" {onclick} aria-hidden="true">
            <svg class="commit-lane" viewBox={format!("0 0 {BUCKETS} 1")} preserveAspectRatio="none" onclick={on_lane}>
                <title>{ lane_title }</title>
                <path d={commit_path(&commits, props.width_us)} />
            </svg>
            // Keyed: marks only ever join at the end, and Yew pairs unkeyed children from the
            // end, so without keys one new mark would rewrite every mark's place.
            { for others.iter().map(|m| html! {
                <span key={m.time.as_us() * KINDS.len() as u64 + m.kind as u64}
                      class={classes!("mark", m.kind.as_str(), (m.count > 1).then_some("many"))}
                      style={format!("left:{}%", fixed(m.time.as_us() as f64 * 100.0 / span, 4))}
                      data-t={m.time.as_us().to_string()} title={title(m)}></span>
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(us: u64, kind: MarkerKind, label: &str) -> Marker {
        Marker {
            time: SimTime::from_us(us),
            kind,
            label: label.into(),
        }
    }

    #[test]
    fn buckets_keep_one_mark_per_kind_and_count_the_rest() {
        let markers = [
            marker(10, MarkerKind::Commit, "index 1 committed"),
            marker(20, MarkerKind::Leader, "n1 leads term 1"),
            marker(30, MarkerKind::Commit, "index 2 committed"),
            marker(150, MarkerKind::Commit, "index 3 committed"),
        ];
        let marks = bucket(&markers, 100);
        assert_eq!(
            marks
                .iter()
                .map(|m| (m.time.as_us(), m.kind, m.count))
                .collect::<Vec<_>>(),
            [
                (10, MarkerKind::Commit, 2),
                (20, MarkerKind::Leader, 1),
                (150, MarkerKind::Commit, 1)
            ]
        );
        assert_eq!(title(&marks[0]), "0.000 s: index 1 committed and 1 more");
        let commits: Vec<&Mark> = marks.iter().filter(|m| m.kind == MarkerKind::Commit).collect();
        assert_eq!(commit_path(&commits, 100), "M0.10 0V1M1.50 0V1");
    }

    #[test]
    fn thousands_of_markers_stay_a_few_hundred_marks() {
        let markers: Vec<Marker> = (0..20_000)
            .map(|i| marker(i * 1_000, MarkerKind::Commit, "c"))
            .collect();
        let horizon = SimTime::from_us(20_000 * 1_000);
        let marks = bucket(&markers, bucket_width_us(horizon));
        assert!(marks.len() <= BUCKETS as usize + 1, "{}", marks.len());
        assert_eq!(marks.iter().map(|m| m.count).sum::<usize>(), 20_000);
    }

    #[test]
    fn the_bucket_width_changes_only_when_the_run_doubles() {
        assert_eq!(bucket_width_us(SimTime::ZERO), 1);
        assert_eq!(bucket_width_us(SimTime::from_secs(10)), 65_536);
        assert_eq!(bucket_width_us(SimTime::from_secs(12)), 65_536);
        assert_eq!(bucket_width_us(SimTime::from_secs(20)), 131_072);
    }
}
