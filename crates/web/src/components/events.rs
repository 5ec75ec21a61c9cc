//! The event list: the trace's last lines in words, newest at the bottom. It follows the newest
//! line unless the reader has scrolled up; a line seeks the run to its time; a filter hides
//! heartbeats, or shows only faults and role changes.
//!
//! While the run outpaces reading (more than a box of new lines between two refreshes), the
//! list redraws at most twice a second ([`use_paced`]).
//!
//! One click handler on the list serves every line (each line carries its time in a data
//! attribute), and the lines are one tab stop: the arrow keys move between them.

use crate::components::paced::use_paced;
use crate::model::{EventLine, LineClass};
use deepend_core::SimTime;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// How many lines the list renders while the reader scrolls back: the newest that pass the
/// filter. The model keeps a few more, so that a filter still has lines to show.
pub const EVENT_ROWS: usize = 120;
/// How many lines it renders while following the newest: the 15rem box shows about 13, so
/// this is enough to start scrolling back, and cheap to lay out again at every refresh (layout
/// time grows with the lines rendered).
pub const FOLLOW_ROWS: usize = 24;

#[derive(Properties, PartialEq)]
pub struct EventsProps {
    pub events: Rc<Vec<EventLine>>,
    pub on_seek: Callback<SimTime>,
}

/// Which lines the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    NoHeartbeats,
    FaultsAndRoles,
}

impl Filter {
    const ALL: [Filter; 3] = [Filter::All, Filter::NoHeartbeats, Filter::FaultsAndRoles];

    fn label(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::NoHeartbeats => "no heartbeats",
            Filter::FaultsAndRoles => "faults & roles",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Filter::All => "Show every event",
            Filter::NoHeartbeats => "Hide heartbeats, their acknowledgements and heartbeat timers",
            Filter::FaultsAndRoles => "Show only faults and actions, role changes, forced timeouts and violations",
        }
    }
}

/// The stylesheet's class of a line, and whether a filter shows it.
impl LineClass {
    fn class(self) -> &'static str {
        match self {
            LineClass::Action => "ev-action",
            LineClass::Role => "ev-role",
            LineClass::Violation => "ev-violation",
            LineClass::Heartbeat => "ev-heartbeat",
            LineClass::Drop => "ev-drop",
            LineClass::Log => "ev-log",
            LineClass::Client => "ev-client",
            LineClass::Message => "ev-message",
            LineClass::Other => "ev-other",
        }
    }

    pub fn shown_by(self, filter: Filter) -> bool {
        match filter {
            Filter::All => true,
            Filter::NoHeartbeats => self != LineClass::Heartbeat,
            Filter::FaultsAndRoles => matches!(self, LineClass::Action | LineClass::Role | LineClass::Violation),
        }
    }
}

/// The trace index of the newest line.
fn newest(lines: &[EventLine]) -> usize {
    lines.last().map_or(0, |l| l.index)
}

/// `1234.567`: milliseconds with microseconds, the unit in the column header.
fn millis(t: SimTime) -> String {
    format!("{}.{:03}", t.as_us() / 1000, t.as_us() % 1000)
}

#[function_component(Events)]
pub fn events(props: &EventsProps) -> Html {
    // More than a box of new lines since the last refresh: the run outpaces reading.
    let events = use_paced(&props.events, |shown, latest| {
        newest(latest) > newest(shown) + FOLLOW_ROWS
    });
    let filter = use_state_eq(|| Filter::All);
    // Whether the list follows the newest line: true until the reader scrolls up.
    let following = use_state_eq(|| true);
    let list = use_node_ref();
    // The list sits in a scroller laid out bottom-up (flex, column-reverse): at scroll 0 it
    // shows the newest lines and stays there as lines arrive, with no script reading the
    // layout after each render. Scrolling up (negative scrollTop) stops following.

    let onscroll = {
        let following = following.clone();
        Callback::from(move |e: Event| {
            let Some(el) = e.target_dyn_into::<Element>() else {
                return;
            };
            following.set(el.scroll_top() >= -8);
        })
    };
    let onclick = {
        let on_seek = props.on_seek.clone();
        Callback::from(move |e: MouseEvent| {
            let line = e
                .target_dyn_into::<Element>()
                .and_then(|t| t.closest("[data-time-us]").ok().flatten());
            if let Some(us) = line
                .and_then(|l| l.get_attribute("data-time-us"))
                .and_then(|t| t.parse().ok())
            {
                on_seek.emit(SimTime(us));
            }
        })
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        let Some(target) = e.target_dyn_into::<Element>() else {
            return;
        };
        let Some(current) = target.closest("li").ok().flatten() else {
            return;
        };
        let next = match e.key().as_str() {
            "ArrowUp" => current.previous_element_sibling(),
            "ArrowDown" => current.next_element_sibling(),
            "Home" => current.parent_element().and_then(|p| p.first_element_child()),
            "End" => current.parent_element().and_then(|p| p.last_element_child()),
            _ => return,
        };
        e.prevent_default();
        e.stop_propagation();
        if let Some(button) = next
            .and_then(|li| li.first_element_child())
            .and_then(|b| b.dyn_into::<HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    });
    let jump_to_newest = {
        let (following, list) = (following.clone(), list.clone());
        Callback::from(move |_: MouseEvent| {
            following.set(true);
            if let Some(el) = list.cast::<Element>() {
                el.set_scroll_top(0);
            }
        })
    };

    let shown: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, l)| l.class.shown_by(*filter))
        .map(|(at, _)| at)
        .collect();
    // The newest lines that pass the filter, at most FOLLOW_ROWS or EVENT_ROWS of them, starting
    // at a block's start (see below) so that the first block never loses lines one by one.
    let shown = {
        let rows = if *following { FOLLOW_ROWS } else { EVENT_ROWS };
        let mut start = shown.len().saturating_sub(rows);
        if start > 0 {
            let cut = events[shown[start - 1]].index / EVENT_BLOCK;
            while start < shown.len() && events[shown[start]].index / EVENT_BLOCK == cut {
                start += 1;
            }
        }
        &shown[start..]
    };
    // Lines go in blocks of consecutive trace events: as the run goes on, lines join the last
    // block and leave the first, and the blocks in between render nothing new. Blocks are not
    // keyed: when the list moves on by a block, each block takes the next one's lines in place,
    // which costs less than the node moves Yew's keyed diff makes of a list that changes at both
    // ends (measured: keyed lines moved most of the list on every frame).
    let mut blocks: Vec<(usize, Vec<usize>)> = Vec::new();
    for &at in shown {
        let block = events[at].index / EVENT_BLOCK;
        match blocks.last_mut() {
            Some((b, rows)) if *b == block => rows.push(at),
            _ => blocks.push((block, vec![at])),
        }
    }
    let block_count = blocks.len();
    let lines = blocks.into_iter().enumerate().map(|(i, (_, rows))| {
        // The one line in the tab order is the newest (the arrows reach the others).
        let last_block = i + 1 == block_count;
        html! { <EventBlock events={events.clone()} {rows} {last_block} /> }
    });
    let filters = Filter::ALL.map(|f| {
        let filter = filter.clone();
        html! {
            <button type="button" class="seg" aria-pressed={(*filter == f).to_string()} title={f.help()}
                onclick={move |_| filter.set(f)}>{ f.label() }</button>
        }
    });

    html! {
        <section class="panel events" aria-labelledby="events-title">
            <div class="panel-head">
                <h2 id="events-title" class="panel-title">{ "Events" }</h2>
                <div class="segmented" role="group" aria-label="Filter events">{ for filters }</div>
            </div>
            <div class="ev-columns" aria-hidden="true"><span>{ "ms" }</span><span>{ "event (select to seek there)" }</span></div>
            <div class="ev-scroll" ref={list} {onscroll}>
                <ol class="ev-list" aria-labelledby="events-title" {onclick} {onkeydown}>
                    { for lines }
                </ol>
            </div>
            if shown.is_empty() {
                <p class="panel-empty">{ if events.is_empty() {
                    "No events yet.".to_string()
                } else {
                    format!("None of the last {} events passes this filter.", events.len())
                } }</p>
            }
            if !*following {
                <button type="button" class="btn ev-newest" onclick={jump_to_newest}>{ "↓ newest" }</button>
            }
        </section>
    }
}

/// How many consecutive trace events one block of lines holds.
const EVENT_BLOCK: usize = 16;

#[derive(Properties)]
struct EventBlockProps {
    /// The whole list, shared; the block's lines are `events[at]` for each row.
    events: Rc<Vec<EventLine>>,
    /// Indexes into `events`.
    rows: Vec<usize>,
    /// The block holds the newest line, which takes the list's tab stop.
    last_block: bool,
}

/// A block renders again only when its own lines changed, not when the list around it moved.
impl PartialEq for EventBlockProps {
    fn eq(&self, other: &Self) -> bool {
        self.last_block == other.last_block
            && self.rows.len() == other.rows.len()
            && self
                .rows
                .iter()
                .zip(&other.rows)
                .all(|(&a, &b)| self.events.get(a) == other.events.get(b))
    }
}

/// A block's lines, as a fragment of the list's items.
#[function_component(EventBlock)]
fn event_block(props: &EventBlockProps) -> Html {
    let count = props.rows.len();
    let rows = props.rows.iter().enumerate().filter_map(|(i, &at)| {
        let line = props.events.get(at)?;
        let tab_stop = props.last_block && i + 1 == count;
        Some(html! {
            <li class={line.class.class()}>
                <button type="button" class="ev-line" tabindex={if tab_stop { "0" } else { "-1" }}
                    data-time-us={line.time.as_us().to_string()}
                    title={line.text.clone()}>
                    <time class="ev-time">{ millis(line.time) }</time>
                    <span class="ev-text">{ line.text.clone() }</span>
                </button>
            </li>
        })
    });
    html! { <>{ for rows }</> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_show_their_classes() {
        assert!(LineClass::Heartbeat.shown_by(Filter::All));
        assert!(!LineClass::Heartbeat.shown_by(Filter::NoHeartbeats));
        assert!(LineClass::Drop.shown_by(Filter::NoHeartbeats));
        assert!(!LineClass::Drop.shown_by(Filter::FaultsAndRoles));
        assert!(LineClass::Violation.shown_by(Filter::FaultsAndRoles));
        assert!(LineClass::Role.shown_by(Filter::FaultsAndRoles));
        assert!(!LineClass::Message.shown_by(Filter::FaultsAndRoles));
    }
}
