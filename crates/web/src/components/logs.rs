//! The logs of all nodes, aligned by index: one row per node, one column per log index (the
//! last [`LOG_WINDOW`] indexes of the cluster). A cell is coloured by its entry's term and
//! prints the term, so colour is never the only cue; committed entries are filled, uncommitted
//! ones outlined, and a bar marks each node's commit index. Where nodes hold different terms
//! at one index, the cells that will be overwritten get a warning outline and a `!`, so the
//! reader sees a conflict and then sees it vanish when the follower's log is repaired.
//!
//! While the run outpaces reading (the window moves on by more than its width between two
//! refreshes), the grid redraws at most twice a second ([`use_paced`]).
//!
//! The grid follows the ARIA grid pattern: one cell is in the tab order, the arrow keys move
//! between cells, and the focused or hovered cell's entry is described in full under the grid.

use crate::components::paced::use_paced;
use crate::model::{EntryView, LOG_WINDOW, NodeView};
use deepend_core::NodeId;
use deepend_core::protocol::Role;
use deepend_core::sim::NodeStatus;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// How many term colours the palette has; term `t` uses colour `t % TERM_COLOURS`.
pub const TERM_COLOURS: u64 = 8;

#[derive(Properties)]
pub struct LogsProps {
    pub nodes: Rc<Vec<NodeView>>,
    pub selected: Option<NodeId>,
}

/// Only what the grid shows takes part, so that a frame in which only the election timers
/// moved does not render the grid again.
impl PartialEq for LogsProps {
    fn eq(&self, other: &Self) -> bool {
        self.selected == other.selected
            && (Rc::ptr_eq(&self.nodes, &other.nodes)
                || (self.nodes.len() == other.nodes.len()
                    && self.nodes.iter().zip(other.nodes.iter()).all(|(a, b)| {
                        a.id == b.id
                            && a.role == b.role
                            && a.status == b.status
                            && a.pre_candidate() == b.pre_candidate()
                            && a.term == b.term
                            && a.commit_index == b.commit_index
                            && a.last_index == b.last_index
                            && a.log == b.log
                    })))
    }
}

/// The indexes the grid shows: the last [`LOG_WINDOW`] of the longest log, or `None` while
/// every log is empty.
pub fn window(nodes: &[NodeView]) -> Option<(u64, u64)> {
    let last = nodes
        .iter()
        .map(|n| n.last_index.max(n.log.last().map_or(0, |e| e.index)))
        .max()?;
    (last > 0).then(|| (last.saturating_sub(LOG_WINDOW - 1).max(1), last))
}

/// For each index from `first` to `last`, the term that wins where nodes disagree (`None`
/// where all nodes holding the index agree). Followers copy the leader, so the winner is, in
/// order: the entry of the current leader (a live leader whose term no live node has passed);
/// a committed entry; the term most nodes hold (the higher on a tie). A cell whose term differs
/// from its index's winner is a conflict about to be repaired. In a correct Raft a current
/// leader holds every committed entry; in a broken variant its entry may beat a committed one,
/// and the panel shows the committed cells as the ones about to be overwritten, which is what
/// then happens.
pub fn conflicts(nodes: &[NodeView], first: u64, last: u64) -> Vec<Option<u64>> {
    let live = || nodes.iter().filter(|n| n.status != NodeStatus::Crashed);
    let newest_term = live().map(|n| n.term).max();
    let leader = live()
        .filter(|n| n.role.leads && Some(n.term) == newest_term)
        .min_by_key(|n| n.id);
    (first..=last)
        .map(|index| {
            let held: Vec<&EntryView> = nodes.iter().filter_map(|n| entry_at(&n.log, index)).collect();
            let first_term = held.first()?.term;
            if held.iter().all(|e| e.term == first_term) {
                return None;
            }
            if let Some(e) = leader.and_then(|l| entry_at(&l.log, index)) {
                return Some(e.term);
            }
            if let Some(e) = held.iter().find(|e| e.committed) {
                return Some(e.term);
            }
            let mut counts: Vec<(u64, usize)> = Vec::new();
            for e in &held {
                match counts.iter_mut().find(|(t, _)| *t == e.term) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((e.term, 1)),
                }
            }
            counts.into_iter().max_by_key(|&(t, c)| (c, t)).map(|(t, _)| t)
        })
        .collect()
}

/// The entry at `index` in a node's shown log (a suffix ordered by index).
pub fn entry_at(log: &[EntryView], index: u64) -> Option<&EntryView> {
    let first = log.first()?.index;
    let e = log.get(usize::try_from(index.checked_sub(first)?).ok()?)?;
    (e.index == index).then_some(e)
}

#[function_component(Logs)]
pub fn logs(props: &LogsProps) -> Html {
    let pointed = use_state_eq(|| None::<(NodeId, u64)>);
    // The cell that holds the grid's one tab stop (the last one focused).
    let active = use_state_eq(|| None::<(NodeId, u64)>);
    // The window moved on by more than its width since the last refresh: the run outpaces
    // reading (at 100x under load, some 200 entries a refresh).
    let nodes = &*use_paced(&props.nodes, |shown, latest| {
        let last = |nodes: &[NodeView]| window(nodes).map_or(0, |w| w.1);
        last(latest) > last(shown) + LOG_WINDOW
    });

    let Some((first, last)) = window(nodes) else {
        return html! {
            <section class="panel logs" aria-labelledby="logs-title">
                <h2 id="logs-title" class="panel-title">{ "Logs" }</h2>
                <p class="panel-empty">{ "No entries yet: a new leader's first entry is a no-op of its term." }</p>
            </section>
        };
    };
    // Paxos: slots instead of indexes, rounds instead of terms, chosen instead of committed; an
    // accepted value of an older round is not a conflict (a later round supersedes it).
    let paxos = nodes.first().is_some_and(NodeView::has_slots);
    let winners = if paxos {
        vec![None; (last - first + 1) as usize]
    } else {
        conflicts(nodes, first, last)
    };
    let words = |text: String| {
        if paxos {
            text.replace("index", "slot")
                .replace("term", "round")
                .replace("not committed", "accepted, not chosen")
                .replace("committed", "chosen")
        } else {
            text
        }
    };
    let columns = (last - first + 1) as usize;
    // The tab stop: the remembered cell if it is still on screen, else the selected (or first)
    // node's last index.
    let tab_stop = (*active)
        .filter(|&(n, i)| nodes.iter().any(|v| v.id == n) && (first..=last).contains(&i))
        .unwrap_or((
            props
                .selected
                .filter(|s| nodes.iter().any(|n| n.id == *s))
                .or(nodes.first().map(|n| n.id))
                .unwrap_or(1),
            last,
        ));

    let point = {
        let pointed = pointed.clone();
        Callback::from(move |target: Option<Element>| pointed.set(target.as_ref().and_then(cell_of)))
    };
    let onmouseover = {
        let point = point.clone();
        Callback::from(move |e: MouseEvent| point.emit(e.target_dyn_into::<Element>()))
    };
    let onmouseleave = {
        let pointed = pointed.clone();
        Callback::from(move |_: MouseEvent| pointed.set(None))
    };
    let onfocusout = {
        let pointed = pointed.clone();
        Callback::from(move |_: FocusEvent| pointed.set(None))
    };
    let onfocusin = {
        let (point, active) = (point.clone(), active.clone());
        Callback::from(move |e: FocusEvent| {
            let target = e.target_dyn_into::<Element>();
            if let Some(cell) = target.as_ref().and_then(cell_of) {
                active.set(Some(cell));
            }
            point.emit(target)
        })
    };
    let row_count = nodes.len() as u64;
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        let Some(target) = e.target_dyn_into::<Element>() else {
            return;
        };
        let (Some(row), Some(index)) = (row_of(&target), index_of(&target)) else {
            return;
        };
        let (r, i) = match e.key().as_str() {
            "ArrowLeft" => (row, index.saturating_sub(1)),
            "ArrowRight" => (row, index + 1),
            "ArrowUp" => (row.saturating_sub(1), index),
            "ArrowDown" => (row + 1, index),
            "Home" => (row, first),
            "End" => (row, last),
            _ => return,
        };
        // The arrows belong to the grid while it has focus, not to the app's stepping keys.
        e.prevent_default();
        e.stop_propagation();
        let Some(grid) = target.closest("table").ok().flatten() else {
            return;
        };
        let r = r.min(row_count.saturating_sub(1));
        let i = i.clamp(first, last);
        if let Some(cell) = cell_at(&grid, r, i).and_then(|c| c.dyn_into::<HtmlElement>().ok()) {
            let _ = cell.focus();
        }
    });

    // The column under the pointer or focus is marked in the header, to read indexes across rows.
    let pointed_index = (*pointed).map(|(_, i)| i);
    // Long indexes do not fit a column: past 99 every other one is labelled, past 999 every
    // fifth (and always the one pointed at).
    let label_every = match last {
        0..=99 => 1,
        100..=999 => 2,
        _ => 5,
    };
    let header = (first..=last).map(|i| {
        let pointed = pointed_index == Some(i);
        let label = (pointed || i % label_every == 0).then_some(i);
        // Not keyed, like the cells: a moving window relabels the columns in place.
        html! { <th scope="col" class={classes!(pointed.then_some("is-pointed"))}>{ for label }</th> }
    });
    let rows = nodes.iter().enumerate().map(|(r, node)| {
        let crashed = node.status == NodeStatus::Crashed;
        let row_class = classes!(
            "log-row",
            (node.role.leads && !crashed).then_some("is-leader"),
            crashed.then_some("is-crashed"),
            (node.status == NodeStatus::Paused).then_some("is-paused"),
            (props.selected == Some(node.id)).then_some("is-selected"),
        );
        // How many of this node's entries lie before the window.
        let hidden_before = node.last_index.min(first - 1);
        // Cells are many and render often: static classes, and only the index as data (the
        // node and row are on the row). They are not keyed: when the window moves on, each cell
        // takes its new neighbour's content in place, which costs less than moving every cell.
        let cells = (first..=last).enumerate().map(|(c, index)| {
            let tabindex = if tab_stop == (node.id, index) { "0" } else { "-1" };
            let edge = !crashed && index == node.commit_index;
            match entry_at(&node.log, index) {
                Some(e) => {
                    let conflict = winners[c].is_some_and(|w| w != e.term);
                    let base = cell_class(e.term, e.committed);
                    let class: AttrValue = match (conflict, edge) {
                        (false, false) => AttrValue::Static(base),
                        (true, false) => format!("{base} conflict").into(),
                        (false, true) => format!("{base} commit-edge").into(),
                        (true, true) => format!("{base} conflict commit-edge").into(),
                    };
                    // Only a conflict has a tooltip: the line under the grid describes the cell
                    // pointed at or focused, and a title on every cell would change on every
                    // cell whenever the window moves on.
                    let title = conflict.then(|| describe(node.id, e, winners[c]));
                    html! {
                        <td role="gridcell" {class} {tabindex} {title}>
                            { e.term }
                            if conflict { <span class="conflict-mark" aria-hidden="true">{ "!" }</span> }
                        </td>
                    }
                }
                None => html! {
                    <td role="gridcell" class={if edge { "cell empty commit-edge" } else { "cell empty" }} {tabindex} />
                },
            }
        });
        let role = match (crashed, node.role, node.pre_candidate()) {
            (true, _, _) => "crashed",
            (_, _, true) => "pre-candidate",
            (_, role, _) if role == Role::FOLLOWER => "",
            (_, role, _) => role.name,
        };
        let status = if node.status == NodeStatus::Paused {
            "paused"
        } else {
            ""
        };
        html! {
            <tr key={node.id} class={row_class} aria-selected={(props.selected == Some(node.id)).to_string()}
                data-log-node={node.id.to_string()} data-row={r.to_string()}>
                <th scope="row" class="log-node">
                    <span class="log-node-id">{ format!("n{}", node.id) }</span>
                    if node.role.leads && !crashed {
                        <span class="leader-mark" aria-hidden="true">{ "★" }</span>
                    }
                    <span class="log-node-role">{ role }</span>
                    if !status.is_empty() { <span class="log-node-role">{ status }</span> }
                </th>
                if hidden_before > 0 {
                    <td class="cell hidden-before" title={format!("indexes 1 to {hidden_before} are not shown")}>
                        { "…" }
                    </td>
                } else {
                    <td class="cell hidden-before" />
                }
                { for cells }
                <td class="log-commit" title="commit index / last index">
                    { if crashed { "—".to_string() } else { node.commit_index.to_string() } }
                    <span class="log-commit-of">{ format!("/{}", node.last_index) }</span>
                </td>
            </tr>
        }
    });

    let detail = (*pointed).and_then(|(id, index)| {
        let node = nodes.iter().find(|n| n.id == id)?;
        Some(match entry_at(&node.log, index) {
            Some(e) => {
                let c = (index.checked_sub(first)? as usize).min(columns - 1);
                words(describe(id, e, winners[c].filter(|&w| w != e.term)))
            }
            None => words(format!("n{id} has no entry at index {index}")),
        })
    });
    let any_conflict = winners.iter().any(Option::is_some);

    html! {
        <section class="panel logs" aria-labelledby="logs-title">
            <h2 id="logs-title" class="panel-title">
                { if paxos { "Slots" } else { "Logs" } }
                if any_conflict { <span class="badge warn">{ "conflict being repaired" }</span> }
            </h2>
            <div class="log-scroll">
                <table class="log-grid" role="grid" aria-labelledby="logs-title"
                    aria-describedby="logs-detail" style={format!("--log-columns: {columns}")} data-first={first.to_string()}
                    {onmouseover} {onmouseleave} {onfocusin} {onfocusout} {onkeydown}>
                    <thead>
                        <tr>
                            <th scope="col" class="log-corner">{ if paxos { "slot" } else { "index" } }</th>
                            <th scope="col" class="hidden-before" />
                            { for header }
                            <th scope="col" class="log-commit" title="commit index / last index">{ if paxos { "chosen" } else { "commit" } }</th>
                        </tr>
                    </thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
            <p id="logs-detail" class="log-detail">
                { detail.unwrap_or_else(|| "Point at or focus a cell to see its command.".to_string()) }
            </p>
            if paxos {
                <p class="log-legend" aria-hidden="true">
                    <span class="cell committed term-1">{ "1" }</span>{ " chosen (learned), in round 1 " }
                    <span class="cell uncommitted term-1">{ "1" }</span>{ " accepted in round 1, not yet chosen " }
                    <span class="legend-edge" />{ " chosen prefix" }
                </p>
            } else {
            <p class="log-legend" aria-hidden="true">
                <span class="cell committed term-1">{ "1" }</span>{ " committed " }
                <span class="cell uncommitted term-1">{ "1" }</span>{ " not yet committed " }
                <span class="legend-edge" />{ " commit index " }
                <span class="cell uncommitted conflict term-2">{ "2" }<span class="conflict-mark">{ "!" }</span></span>
                { " conflicts, will be overwritten" }
            </p>
            }
        </section>
    }
}

/// The whole story of one cell, for its title and the detail line.
pub fn describe(node: NodeId, e: &EntryView, conflict_with: Option<u64>) -> String {
    let state = if e.committed { "committed" } else { "not committed" };
    let mut text = format!(
        "n{node} · index {} · term {} · {} · {state}",
        e.index, e.term, e.command
    );
    if let Some(w) = conflict_with {
        text.push_str(&format!(" · conflicts with term {w} here and will be overwritten"));
    }
    text
}

/// The (node, index) of the log cell `target` is in or on.
fn cell_of(target: &Element) -> Option<(NodeId, u64)> {
    let cell = target.closest("[role=gridcell]").ok().flatten()?;
    let row = cell.closest("tr").ok().flatten()?;
    let node = NodeId::try_from(attr_num(&row, "data-log-node")?).ok()?;
    Some((node, index_of(&cell)?))
}

/// The log index of a grid cell: the grid's first index plus the cell's column. Cells carry no
/// index of their own, so that moving the window on changes no attribute.
fn index_of(cell: &Element) -> Option<u64> {
    let first = attr_num(&cell.closest("table").ok().flatten()?, "data-first")?;
    let mut column = 0;
    let mut previous = cell.previous_element_sibling();
    while let Some(p) = previous {
        if p.get_attribute("role").as_deref() == Some("gridcell") {
            column += 1;
        }
        previous = p.previous_element_sibling();
    }
    Some(first + column)
}

/// The cell at `index` in row `row` of `grid`.
fn cell_at(grid: &Element, row: u64, index: u64) -> Option<Element> {
    let first = attr_num(grid, "data-first")?;
    // The row's first td is the "…" before the window, so the cell of `first` is the second.
    let nth = index.checked_sub(first)? + 2;
    grid.query_selector(&format!("tr[data-row=\"{row}\"] > td:nth-of-type({nth})"))
        .ok()
        .flatten()
}

/// The grid row (0-based) of the cell `target` is in.
fn row_of(target: &Element) -> Option<u64> {
    attr_num(&target.closest("tr").ok().flatten()?, "data-row")
}

/// The classes of a cell holding an entry: its term's colour and whether it is committed.
fn cell_class(term: u64, committed: bool) -> &'static str {
    const COMMITTED: [&str; TERM_COLOURS as usize] = [
        "cell committed term-0",
        "cell committed term-1",
        "cell committed term-2",
        "cell committed term-3",
        "cell committed term-4",
        "cell committed term-5",
        "cell committed term-6",
        "cell committed term-7",
    ];
    const UNCOMMITTED: [&str; TERM_COLOURS as usize] = [
        "cell uncommitted term-0",
        "cell uncommitted term-1",
        "cell uncommitted term-2",
        "cell uncommitted term-3",
        "cell uncommitted term-4",
        "cell uncommitted term-5",
        "cell uncommitted term-6",
        "cell uncommitted term-7",
    ];
    let colour = (term % TERM_COLOURS) as usize;
    if committed {
        COMMITTED[colour]
    } else {
        UNCOMMITTED[colour]
    }
}

fn attr_num(e: &Element, name: &str) -> Option<u64> {
    e.get_attribute(name)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::sim::NodeStatus;

    fn node(id: NodeId, role: Role, entries: &[(u64, u64, bool)]) -> NodeView {
        let log: Vec<EntryView> = entries
            .iter()
            .map(|&(index, term, committed)| EntryView {
                index,
                term,
                committed,
                command: deepend_core::kv::Command::Noop,
            })
            .collect();
        NodeView {
            id,
            role,
            status: NodeStatus::Up,
            term: log.last().map_or(0, |e| e.term),
            leader: None,
            commit_index: log.iter().filter(|e| e.committed).map(|e| e.index).max().unwrap_or(0),
            last_applied: 0,
            last_index: log.last().map_or(0, |e| e.index),
            log,
            detail: crate::model::Detail::Raft {
                voted_for: None,
                pre_candidate: false,
                replication: Vec::new(),
            },
            election_left: None,
            kv: Vec::new(),
            shape: crate::model::NodeShape::Circle,
            marks: Vec::new(),
            caption: None,
            clock_offset_us: 0,
            clock_drift_ppm: 0,
        }
    }

    #[test]
    fn the_window_is_the_last_indexes_of_the_longest_log() {
        assert_eq!(window(&[]), None);
        assert_eq!(window(&[node(1, Role::FOLLOWER, &[])]), None);
        let short = node(1, Role::FOLLOWER, &[(1, 1, true)]);
        assert_eq!(window(std::slice::from_ref(&short)), Some((1, 1)));
        let long: Vec<(u64, u64, bool)> = (1..=30).map(|i| (i, 1, true)).collect();
        let long = node(2, Role::LEADER, &long[30 - LOG_WINDOW as usize..]);
        assert_eq!(window(&[short, long]), Some((30 - LOG_WINDOW + 1, 30)));
    }

    #[test]
    fn cells_are_classed_by_term_colour_and_commitment() {
        assert_eq!(cell_class(1, true), "cell committed term-1");
        assert_eq!(cell_class(9, false), "cell uncommitted term-1");
        assert_eq!(
            cell_class(u64::MAX, true),
            format!("cell committed term-{}", u64::MAX % TERM_COLOURS)
        );
    }

    #[test]
    fn entries_are_found_by_index_in_a_suffix() {
        let n = node(1, Role::FOLLOWER, &[(5, 1, true), (6, 2, false)]);
        assert_eq!(entry_at(&n.log, 6).map(|e| e.term), Some(2));
        assert!(entry_at(&n.log, 4).is_none());
        assert!(entry_at(&n.log, 7).is_none());
        assert!(entry_at(&[], 1).is_none());
    }

    #[test]
    fn the_leaders_term_wins_a_conflict_and_agreement_is_no_conflict() {
        // An old leader cut off in term 1 appended 3@1; the new leader of term 2 has 3@2.
        let old = node(1, Role::FOLLOWER, &[(1, 1, true), (2, 1, true), (3, 1, false)]);
        let new = node(2, Role::LEADER, &[(1, 1, true), (2, 1, true), (3, 2, false)]);
        let follower = node(3, Role::FOLLOWER, &[(1, 1, true), (2, 1, true)]);
        assert_eq!(
            conflicts(&[old.clone(), new.clone(), follower], 1, 3),
            vec![None, None, Some(2)]
        );
        // Without a leader the majority wins, the higher term on a tie.
        let other = node(4, Role::FOLLOWER, &[(1, 1, true), (2, 1, true), (3, 1, false)]);
        let mut no_leader = new.clone();
        no_leader.role = Role::FOLLOWER;
        assert_eq!(conflicts(&[old.clone(), no_leader.clone(), other], 3, 3), vec![Some(1)]);
        assert_eq!(conflicts(&[old, no_leader], 3, 3), vec![Some(2)]);
    }

    #[test]
    fn a_committed_entry_wins_over_a_stale_leader() {
        let stale = node(1, Role::LEADER, &[(1, 1, false)]);
        let committed = node(2, Role::FOLLOWER, &[(1, 2, true)]);
        assert_eq!(conflicts(&[stale, committed], 1, 1), vec![Some(2)]);
    }

    #[test]
    fn a_current_leader_beats_a_committed_entry_in_a_broken_variant() {
        // Figure 8 with commit-old-terms: n1..n3 committed 1@1, then n5 won term 3 holding 1@3.
        let mut committed = node(2, Role::FOLLOWER, &[(1, 1, true)]);
        committed.term = 3;
        let leader = node(5, Role::LEADER, &[(1, 3, false)]);
        assert_eq!(conflicts(&[committed, leader], 1, 1), vec![Some(3)]);
    }

    #[test]
    fn a_crashed_leader_does_not_decide() {
        let mut crashed = node(1, Role::LEADER, &[(1, 1, false)]);
        crashed.status = NodeStatus::Crashed;
        let a = node(2, Role::FOLLOWER, &[(1, 2, false)]);
        let b = node(3, Role::FOLLOWER, &[(1, 2, false)]);
        assert_eq!(conflicts(&[crashed, a, b], 1, 1), vec![Some(2)]);
    }
}
