//! Pure geometry of the stage: where nodes sit, which node a point is on, what a drop means,
//! and what clicking a link does. No Yew and no DOM here, so all of it is unit-tested natively.
//!
//! Positions are a pure function of the node count and the islands: a reloaded link draws the
//! same picture. With the network whole, the nodes sit on one ring, node 1 at the top and the
//! others clockwise. With islands, every island is a small ring of its own (one node alone, two
//! one above the other, three a triangle, ...) in its own box, and the boxes stand in a row
//! across the stage (in two or three rows when many islands would not fit in one), apart from
//! each other, so that the partition reads at a glance; the stage draws a shaded blob around
//! each island and says whether it holds a majority.
//!
//! The stage comes in two shapes ([`View`]): landscape for most screens and portrait for
//! phones and tall frames, so that the drawing is as large as the space allows. Coordinates are
//! in the SVG's viewBox units, y pointing down.

use crate::fixed::push_fixed;
use crate::math;
use deepend_core::NodeId;
use deepend_core::script::Action;
use deepend_core::sort::sort_by_key;
use std::f64::consts::{FRAC_PI_2, PI, TAU};

/// The stage's viewBox: its width and height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub w: f64,
    pub h: f64,
}

impl View {
    pub const LANDSCAPE: View = View { w: 1000.0, h: 700.0 };
    pub const PORTRAIT: View = View { w: 600.0, h: 820.0 };

    pub fn is_portrait(self) -> bool {
        self.h > self.w
    }

    /// The bottom of the area nodes are laid out in: below it runs the legend, in one line
    /// (landscape) or two (portrait).
    pub fn area_bottom(self) -> f64 {
        self.h - if self.is_portrait() { 54.0 } else { 34.0 }
    }

    /// The middle of the layout area (and of the ring).
    pub fn centre(self) -> Point {
        Point::new(self.w / 2.0, (AREA_TOP + self.area_bottom()) / 2.0)
    }

    /// Whether `p` is inside the viewBox.
    pub fn contains(self, p: Point) -> bool {
        (0.0..=self.w).contains(&p.x) && (0.0..=self.h).contains(&p.y)
    }

    /// The shape for a stage drawn `width` by `height` CSS pixels: portrait when it is narrow
    /// (a phone) or, where its height is set from outside (`height_is_free`, an embed), when it
    /// is taller than wide.
    pub fn for_box(width: f64, height: f64, height_is_free: bool) -> View {
        let portrait = if height_is_free {
            height > width * 1.05
        } else {
            width < 560.0
        };
        if portrait { View::PORTRAIT } else { View::LANDSCAPE }
    }
}

/// The top of the area nodes are laid out in: above it runs the hint line.
pub const AREA_TOP: f64 = 30.0;
/// Free space kept at the left and right edges.
const AREA_SIDE: f64 = 10.0;
/// Radius of a drawn node.
pub const NODE_R: f64 = 30.0;
/// How far a node's drawing reaches above its centre (the leader's crown).
pub const NODE_TOP: f64 = 60.0;
/// How far a node's drawing reaches below its centre (its two lines of text).
pub const NODE_BOTTOM: f64 = 80.0;
/// How far a node's drawing reaches to each side (its widest word, "pre-candidate").
pub const NODE_SIDE: f64 = 56.0;
/// A press this close to a node's centre presses the node (a little more than its drawn size,
/// for fingers).
pub const HIT_R: f64 = 44.0;
/// A drop this close to another node joins that node's island ("on or next to it").
pub const JOIN_R: f64 = 80.0;
/// A drop this close to the dragged node's own place changes nothing.
pub const HOME_R: f64 = 50.0;
/// How far the blob around an island reaches beyond its nodes' centres.
pub const ISLAND_PAD: f64 = 64.0;
/// Room above an island's box for its caption.
const CAPTION_H: f64 = 22.0;
/// Space between two islands' boxes, across and down.
const ISLAND_GAP_X: f64 = 44.0;
const ISLAND_GAP_Y: f64 = 16.0;
/// The distance between neighbours in an island, tried from roomy to tight until it all fits.
const SPACINGS: [f64; 5] = [160.0, 144.0, 128.0, 112.0, 96.0];
/// Two messages going opposite ways on a link travel in lanes this far apart.
pub const LANE: f64 = 7.0;

/// A point in viewBox units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub const fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    pub fn distance(self, other: Point) -> f64 {
        math::hypot(self.x - other.x, self.y - other.y)
    }

    /// The point `t` of the way from `self` to `other`.
    pub fn lerp(self, other: Point, t: f64) -> Point {
        Point::new(self.x + (other.x - self.x) * t, self.y + (other.y - self.y) * t)
    }
}

/// One island as the stage draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct Island {
    /// Its nodes, ascending.
    pub members: Vec<NodeId>,
    /// The convex hull of its nodes' positions (one or two points for small islands).
    pub hull: Vec<Point>,
    /// Where its caption goes: centred above it.
    pub anchor: Point,
}

/// Where everything sits.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The position of node `id` at index `id - 1`.
    pub nodes: Vec<Point>,
    /// The islands, in order of their smallest member (one island when the network is whole).
    pub islands: Vec<Island>,
}

impl Layout {
    /// The position of node `id`, if there is such a node.
    pub fn position(&self, id: NodeId) -> Option<Point> {
        self.nodes.get(usize::from(id).wrapping_sub(1)).copied()
    }

    /// Whether the network is split into more than one island.
    pub fn is_split(&self) -> bool {
        self.islands.len() > 1
    }

    /// The index of the island holding `id`.
    pub fn island_of(&self, id: NodeId) -> Option<usize> {
        self.islands.iter().position(|i| i.members.contains(&id))
    }
}

/// The radius of the ring of a whole network of `n` nodes: small clusters sit closer together.
pub fn ring_radius(n: usize) -> f64 {
    (120.0 + 18.0 * n as f64).min(230.0)
}

/// Makes any list of islands a proper grouping of nodes `1..=n`: ids out of range and repeats
/// are dropped, nodes left out become islands of their own (as the core's `partition` does),
/// members are sorted and islands are ordered by their smallest member.
pub fn normalize_islands(n: usize, islands: &[Vec<NodeId>]) -> Vec<Vec<NodeId>> {
    let n = n.min(usize::from(NodeId::MAX));
    let mut seen = vec![false; n + 1];
    let mut groups: Vec<Vec<NodeId>> = Vec::new();
    for island in islands {
        let mut group = Vec::new();
        for &id in island {
            let i = usize::from(id);
            if (1..=n).contains(&i) && !seen[i] {
                seen[i] = true;
                group.push(id);
            }
        }
        if !group.is_empty() {
            sort_by_key(&mut group, |&id| u128::from(id));
            groups.push(group);
        }
    }
    for (i, _) in seen.iter().enumerate().skip(1).filter(|(_, s)| !**s) {
        groups.push(vec![i as NodeId]);
    }
    sort_by_key(&mut groups, |g| u128::from(g[0]));
    groups
}

/// `m` points on a circle around the origin, the first at the top and the rest clockwise.
fn ring(m: usize, radius: f64) -> Vec<Point> {
    (0..m)
        .map(|i| {
            let angle = -FRAC_PI_2 + TAU * i as f64 / m as f64;
            Point::new(radius * math::cos(angle), radius * math::sin(angle))
        })
        .collect()
}

/// An island's own arrangement around the origin: a ring whose neighbours are `spacing` apart;
/// a pair stands side by side, so that the link between them runs clear of their labels.
fn island_ring(m: usize, spacing: f64) -> Vec<Point> {
    match m {
        0 | 1 => ring(m, 0.0),
        2 => vec![Point::new(-spacing / 2.0, 0.0), Point::new(spacing / 2.0, 0.0)],
        _ => ring(m, spacing / (2.0 * math::sin(PI / m as f64))),
    }
}

/// The box an island's drawing needs around its arrangement: left, top, width, height.
fn island_box(points: &[Point]) -> (f64, f64, f64, f64) {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in points {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    }
    let left = x0 - NODE_SIDE;
    let top = y0 - NODE_TOP - CAPTION_H;
    (left, top, x1 + NODE_SIDE - left, y1 + NODE_BOTTOM - top)
}

/// Splits `widths` into `rows` consecutive runs so that the widest run (with gaps) is as
/// narrow as can be; gives the runs' lengths.
fn balanced_rows(widths: &[f64], rows: usize) -> Vec<usize> {
    fn best(widths: &[f64], rows: usize) -> (f64, Vec<usize>) {
        let run = |w: &[f64]| w.iter().sum::<f64>() + ISLAND_GAP_X * w.len().saturating_sub(1) as f64;
        if rows <= 1 || widths.len() <= 1 {
            return (run(widths), vec![widths.len()]);
        }
        let mut answer = (f64::INFINITY, Vec::new());
        for first in 1..=widths.len() - (rows - 1).min(widths.len() - 1) {
            let (rest, mut lens) = best(&widths[first..], rows - 1);
            let widest = run(&widths[..first]).max(rest);
            if widest < answer.0 {
                lens.insert(0, first);
                answer = (widest, lens);
            }
        }
        answer
    }
    best(widths, rows).1
}

/// Where the `n` nodes sit on a stage of shape `view`, given the islands.
pub fn layout(view: View, n: usize, islands: &[Vec<NodeId>]) -> Layout {
    let centre = view.centre();
    let groups = normalize_islands(n, islands);
    let n = groups.iter().map(Vec::len).sum::<usize>();
    let mut nodes = vec![centre; n];
    if groups.len() <= 1 {
        let points = ring(n, ring_radius(n));
        for (slot, p) in nodes.iter_mut().zip(&points) {
            *slot = Point::new(centre.x + p.x, centre.y + p.y);
        }
        let islands = groups
            .into_iter()
            .map(|members| Island {
                hull: convex_hull(&nodes),
                members,
                anchor: centre,
            })
            .collect();
        return Layout { nodes, islands };
    }

    // Try the roomiest spacing first, in one row, then more rows, then tighter spacing.
    let (area_w, area_h) = (view.w - 2.0 * AREA_SIDE, view.area_bottom() - AREA_TOP);
    let mut chosen = None;
    'search: for spacing in SPACINGS {
        let shapes: Vec<Vec<Point>> = groups.iter().map(|g| island_ring(g.len(), spacing)).collect();
        let boxes: Vec<(f64, f64, f64, f64)> = shapes.iter().map(|s| island_box(s)).collect();
        let widths: Vec<f64> = boxes.iter().map(|b| b.2).collect();
        for rows in 1..=groups.len().min(3) {
            let lens = balanced_rows(&widths, rows);
            let mut start = 0;
            let mut fits = true;
            let mut height = ISLAND_GAP_Y * (lens.len() - 1) as f64;
            for &len in &lens {
                let row = &boxes[start..start + len];
                let width = row.iter().map(|b| b.2).sum::<f64>() + ISLAND_GAP_X * (len - 1) as f64;
                fits &= width <= area_w;
                height += row.iter().map(|b| b.3).fold(0.0, f64::max);
                start += len;
            }
            let last = spacing == SPACINGS[SPACINGS.len() - 1] && rows == groups.len().min(3);
            if (fits && height <= area_h) || last {
                chosen = Some((shapes, boxes, lens, height));
                break 'search;
            }
        }
    }
    let Some((shapes, boxes, lens, height)) = chosen else {
        return Layout {
            nodes,
            islands: Vec::new(),
        };
    };

    let mut out = Vec::with_capacity(groups.len());
    let mut y = AREA_TOP + (area_h - height).max(0.0) / 2.0;
    let mut first = 0;
    for len in lens {
        let row = first..first + len;
        let row_h = boxes[row.clone()].iter().map(|b| b.3).fold(0.0, f64::max);
        let row_w = boxes[row.clone()].iter().map(|b| b.2).sum::<f64>() + ISLAND_GAP_X * (len - 1) as f64;
        let mut x = (view.w - row_w) / 2.0;
        for i in row {
            let (left, top, w, h) = boxes[i];
            // The box's corner goes to (x, y + centring in the row); its points move with it.
            let dx = x - left;
            let dy = y + (row_h - h) / 2.0 - top;
            let points: Vec<Point> = shapes[i].iter().map(|p| Point::new(p.x + dx, p.y + dy)).collect();
            for (&id, p) in groups[i].iter().zip(&points) {
                nodes[usize::from(id) - 1] = *p;
            }
            let anchor = Point::new(x + w / 2.0, y + (row_h - h) / 2.0 + CAPTION_H / 2.0);
            out.push(Island {
                hull: convex_hull(&points),
                members: groups[i].clone(),
                anchor,
            });
            x += w + ISLAND_GAP_X;
        }
        y += row_h + ISLAND_GAP_Y;
        first += len;
    }
    Layout { nodes, islands: out }
}

/// The convex hull of `points`, counter-clockwise on screen, without repeated points (Andrew's
/// monotone chain). One or two distinct points come back as they are.
pub fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut p: Vec<Point> = points
        .iter()
        .copied()
        .filter(|q| q.x.is_finite() && q.y.is_finite())
        .collect();
    // By x, then y, in `total_cmp`'s order: the sign bit flips the rest for negatives.
    let ordered = |v: f64| {
        let bits = v.to_bits();
        u128::from(if bits >> 63 == 1 { !bits } else { bits | 1 << 63 })
    };
    sort_by_key(&mut p, |q| ordered(q.x) << 64 | ordered(q.y));
    p.dedup_by(|a, b| a.distance(*b) < 1e-9);
    if p.len() < 3 {
        return p;
    }
    let cross = |o: Point, a: Point, b: Point| (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
    let mut hull: Vec<Point> = Vec::with_capacity(p.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0 {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// The SVG path of an island's blob: drawn with a thick round stroke, a path through the hull
/// becomes a rounded shape [`ISLAND_PAD`] beyond the nodes (a dot or a capsule for small islands).
pub fn hull_path(hull: &[Point]) -> String {
    // `M{x:.1} {y:.1}`: one point of the path.
    fn point(d: &mut String, command: char, x: f64, y: f64) {
        d.push(command);
        push_fixed(d, x, 1);
        d.push(' ');
        push_fixed(d, y, 1);
    }
    let mut d = String::with_capacity(hull.len() * 16 + 8);
    match hull {
        [] => {}
        [p] => {
            point(&mut d, 'M', p.x, p.y);
            point(&mut d, 'L', p.x + 0.01, p.y);
        }
        [first, rest @ ..] => {
            point(&mut d, 'M', first.x, first.y);
            for p in rest {
                point(&mut d, 'L', p.x, p.y);
            }
            d.push('Z');
        }
    }
    d
}

/// The node whose centre is nearest `p` within `radius`, leaving `except` out.
pub fn node_near(positions: &[Point], p: Point, radius: f64, except: Option<NodeId>) -> Option<NodeId> {
    positions
        .iter()
        .enumerate()
        .map(|(i, &q)| ((i + 1) as NodeId, q.distance(p)))
        .filter(|&(id, d)| Some(id) != except && d <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

/// The node a press at `p` lands on.
pub fn node_at(positions: &[Point], p: Point) -> Option<NodeId> {
    node_near(positions, p, HIT_R, None)
}

/// Whether `p` is empty space: on the stage and away from every node but `except`.
pub fn is_empty_space(view: View, positions: &[Point], p: Point, except: Option<NodeId>) -> bool {
    view.contains(p) && node_near(positions, p, JOIN_R, except).is_none()
}

/// What releasing a dragged node at a point means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropTarget {
    /// Nothing: released at its own place or off the stage.
    Cancel,
    /// Into a new island of its own.
    Alone,
    /// Into the island of this node.
    Join(NodeId),
}

/// What releasing node `dragged` (whose place is `home`) at `at` means.
pub fn drop_target(view: View, positions: &[Point], dragged: NodeId, home: Point, at: Point) -> DropTarget {
    if !view.contains(at) {
        return DropTarget::Cancel;
    }
    if let Some(other) = node_near(positions, at, JOIN_R, Some(dragged)) {
        // Nearer to another node than to its own place: join; otherwise it stays put.
        if at.distance(home) >= at.distance(positions[usize::from(other) - 1]) {
            return DropTarget::Join(other);
        }
    }
    if at.distance(home) <= HOME_R {
        return DropTarget::Cancel;
    }
    if is_empty_space(view, positions, at, Some(dragged)) {
        DropTarget::Alone
    } else {
        DropTarget::Cancel
    }
}

/// The grouping after moving `node` as `target` says, or `None` when nothing changes.
pub fn regroup(n: usize, islands: &[Vec<NodeId>], node: NodeId, target: DropTarget) -> Option<Vec<Vec<NodeId>>> {
    let mut groups = normalize_islands(n, islands);
    let from = groups.iter().position(|g| g.contains(&node))?;
    match target {
        DropTarget::Cancel => return None,
        DropTarget::Alone => {
            if groups[from].len() == 1 {
                return None;
            }
            groups[from].retain(|&m| m != node);
            groups.push(vec![node]);
        }
        DropTarget::Join(other) => {
            let to = groups.iter().position(|g| g.contains(&other))?;
            if to == from {
                return None;
            }
            groups[from].retain(|&m| m != node);
            groups[to].push(node);
        }
    }
    Some(normalize_islands(n, &groups))
}

/// The one action that makes `groups` the network's islands.
pub fn partition_action(groups: Vec<Vec<NodeId>>) -> Action {
    if groups.len() <= 1 {
        Action::Heal
    } else {
        Action::Partition(groups)
    }
}

/// The state of the link between `lo` and `hi` (`lo < hi`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Whole,
    /// Messages from `lo` to `hi` are dropped.
    CutForward,
    /// Messages from `hi` to `lo` are dropped.
    CutBackward,
    /// Cut both ways by cuts (the nodes are in the same island).
    CutBoth,
    /// The nodes are in different islands.
    Partitioned,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Whole => "whole",
            LinkState::CutForward => "cut-forward",
            LinkState::CutBackward => "cut-backward",
            LinkState::CutBoth => "cut-both",
            LinkState::Partitioned => "partitioned",
        }
    }
}

/// The state of the link between `a` and `b`, seen from the lower id.
pub fn link_state(layout: &Layout, cuts: &[(NodeId, NodeId)], a: NodeId, b: NodeId) -> LinkState {
    let (lo, hi) = (a.min(b), a.max(b));
    if layout.island_of(lo) != layout.island_of(hi) {
        return LinkState::Partitioned;
    }
    match (cuts.contains(&(lo, hi)), cuts.contains(&(hi, lo))) {
        (false, false) => LinkState::Whole,
        (true, false) => LinkState::CutForward,
        (false, true) => LinkState::CutBackward,
        (true, true) => LinkState::CutBoth,
    }
}

/// The actions that move a link to its next state when clicked: whole, cut one way (from the
/// lower id), cut the other way, cut both ways, whole again. A partitioned link is moved by
/// dragging nodes, not by clicking, so it has none.
pub fn link_cycle(lo: NodeId, hi: NodeId, state: LinkState) -> Vec<Action> {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    match state {
        LinkState::Whole => vec![Action::Cut {
            from: lo,
            to: hi,
            both: false,
        }],
        LinkState::CutForward => vec![
            Action::Restore {
                from: lo,
                to: hi,
                both: false,
            },
            Action::Cut {
                from: hi,
                to: lo,
                both: false,
            },
        ],
        LinkState::CutBackward => vec![Action::Cut {
            from: lo,
            to: hi,
            both: false,
        }],
        LinkState::CutBoth => vec![Action::Restore {
            from: lo,
            to: hi,
            both: true,
        }],
        LinkState::Partitioned => Vec::new(),
    }
}

/// The on-screen box of the SVG element, in CSS pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// Converts a pointer's client coordinates to viewBox units, for an SVG drawn with the
/// default `preserveAspectRatio="xMidYMid meet"` into `rect`.
pub fn client_to_view(view: View, rect: Rect, client_x: f64, client_y: f64) -> Option<Point> {
    let scale = (rect.width / view.w).min(rect.height / view.h);
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    let left = rect.left + (rect.width - view.w * scale) / 2.0;
    let top = rect.top + (rect.height - view.h * scale) / 2.0;
    let p = Point::new((client_x - left) / scale, (client_y - top) / scale);
    (p.x.is_finite() && p.y.is_finite()).then_some(p)
}

/// Where a message `progress` of the way from `from` to `to` is drawn: on the link, shifted
/// into the right-hand lane of its direction so that the two directions do not overlap.
pub fn message_point(from: Point, to: Point, progress: f64) -> Point {
    let p = from.lerp(to, progress.clamp(0.0, 1.0));
    let (dx, dy) = (to.x - from.x, to.y - from.y);
    let len = math::hypot(dx, dy);
    if len < 1e-9 {
        return p;
    }
    // Screen y points down, so (-dy, dx) is to the right of the direction of travel.
    Point::new(p.x - dy / len * LANE, p.y + dx / len * LANE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: View = View::LANDSCAPE;
    const CENTRE: Point = Point {
        x: 500.0,
        y: (AREA_TOP + 700.0 - 34.0) / 2.0,
    };

    fn whole(n: usize) -> Vec<Vec<NodeId>> {
        vec![(1..=n as NodeId).collect()]
    }

    #[test]
    fn whole_network_sits_on_a_ring_with_node_one_on_top() {
        for n in 1..=9 {
            let l = layout(L, n, &whole(n));
            assert_eq!(l.nodes.len(), n);
            assert_eq!(l.islands.len(), 1);
            let r = ring_radius(n);
            for p in &l.nodes {
                assert!((p.distance(CENTRE) - r).abs() < 1e-6);
            }
            assert!((l.nodes[0].x - CENTRE.x).abs() < 1e-6 && l.nodes[0].y < CENTRE.y);
            if n > 2 {
                // Clockwise on screen: node 2 is to the right of node 1.
                assert!(l.nodes[1].x > l.nodes[0].x);
            }
        }
    }

    /// Every way of splitting `n` nodes into islands (restricted growth strings).
    fn all_groupings(n: usize) -> Vec<Vec<Vec<NodeId>>> {
        fn extend(prefix: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<Vec<NodeId>>>) {
            if prefix.len() == n {
                let k = prefix.iter().max().map_or(0, |m| m + 1);
                let mut groups = vec![Vec::new(); k];
                for (i, &g) in prefix.iter().enumerate() {
                    groups[g].push((i + 1) as NodeId);
                }
                out.push(groups);
                return;
            }
            let next = prefix.iter().max().map_or(0, |m| m + 1);
            for g in 0..=next {
                prefix.push(g);
                extend(prefix, n, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        extend(&mut Vec::new(), n, &mut out);
        out
    }

    /// All 26 000-odd groupings of up to 9 nodes: every node's drawing stays on the stage, no two
    /// nodes crowd each other, and nodes of different islands are far enough apart that the
    /// islands' blobs do not touch.
    #[test]
    fn every_grouping_fits_the_stage_without_crowding() {
        let mut count = 0;
        for n in 1..=9 {
            for islands in all_groupings(n) {
                count += 1;
                for view in [View::LANDSCAPE, View::PORTRAIT] {
                    let l = layout(view, n, &islands);
                    assert_eq!(l.islands.len(), islands.len());
                    for (i, p) in l.nodes.iter().enumerate() {
                        let id = (i + 1) as NodeId;
                        assert!(
                            p.x - NODE_SIDE >= 0.0 && p.x + NODE_SIDE <= view.w,
                            "{view:?} {islands:?} n{id} at {p:?}"
                        );
                        assert!(
                            p.y - NODE_TOP >= AREA_TOP - 1e-9 && p.y + NODE_BOTTOM <= view.area_bottom(),
                            "{view:?} {islands:?} n{id} at {p:?}"
                        );
                        for (j, q) in l.nodes.iter().enumerate().skip(i + 1) {
                            let other = (j + 1) as NodeId;
                            let d = p.distance(*q);
                            assert!(d > 2.0 * HIT_R, "{islands:?}: n{id} and n{other} {d:.0} apart");
                            if l.island_of(id) != l.island_of(other) {
                                assert!(
                                    d > 2.0 * ISLAND_PAD + 8.0,
                                    "{islands:?}: islands touch at n{id}, n{other}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(count, 1 + 2 + 5 + 15 + 52 + 203 + 877 + 4140 + 21147);
    }

    #[test]
    fn narrow_stages_are_portrait_and_tall_frames_too() {
        assert_eq!(View::for_box(1000.0, 700.0, false), View::LANDSCAPE);
        assert_eq!(View::for_box(360.0, 252.0, false), View::PORTRAIT);
        // A page stage's height follows from its shape: only its width decides.
        assert_eq!(View::for_box(900.0, 1200.0, false), View::LANDSCAPE);
        assert_eq!(View::for_box(900.0, 1200.0, true), View::PORTRAIT);
        assert_eq!(View::for_box(900.0, 500.0, true), View::LANDSCAPE);
        assert!(View::PORTRAIT.is_portrait() && !View::LANDSCAPE.is_portrait());
        assert_eq!(View::LANDSCAPE.centre(), CENTRE);
    }

    #[test]
    fn islands_stand_side_by_side() {
        // The leader cut off: the four others on the left, n3 alone on the right.
        let l = layout(L, 5, &[vec![1, 2, 4, 5], vec![3]]);
        assert!(l.is_split());
        let n3 = l.position(3).unwrap();
        for id in [1, 2, 4, 5] {
            assert!(l.position(id).unwrap().x + 2.0 * ISLAND_PAD < n3.x);
        }
        // Islands' captions sit above their nodes.
        for isle in &l.islands {
            for &m in &isle.members {
                assert!(isle.anchor.y < l.position(m).unwrap().y - NODE_R);
            }
        }
    }

    #[test]
    fn layout_is_a_pure_function_of_count_and_islands() {
        let a = layout(L, 7, &[vec![5, 2], vec![1, 7]]);
        let b = layout(L, 7, &[vec![1, 7], vec![2, 5], vec![3], vec![4], vec![6]]);
        assert_eq!(a, b);
    }

    #[test]
    fn odd_islands_never_panic() {
        for islands in [
            vec![],
            vec![vec![]],
            vec![vec![0, 12, 3, 3]],
            vec![vec![2, 2], vec![2, 1]],
        ] {
            let l = layout(L, 4, &islands);
            assert_eq!(l.nodes.len(), 4);
            let members: usize = l.islands.iter().map(|i| i.members.len()).sum();
            assert_eq!(members, 4);
        }
        assert!(layout(L, 0, &[]).nodes.is_empty());
        assert_eq!(normalize_islands(3, &[vec![3, 9, 1]]), vec![vec![1, 3], vec![2]]);
    }

    #[test]
    fn hull_drops_inner_points() {
        let pts = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(10.0, 10.0),
            Point::new(0.0, 10.0),
            Point::new(5.0, 5.0),
            Point::new(5.0, 0.0),
        ];
        let hull = convex_hull(&pts);
        assert_eq!(hull.len(), 4);
        assert!(!hull.contains(&Point::new(5.0, 5.0)));
        assert_eq!(convex_hull(&[Point::new(1.0, 1.0), Point::new(1.0, 1.0)]).len(), 1);
        assert!(hull_path(&[]).is_empty());
        assert!(hull_path(&[Point::new(1.0, 2.0)]).starts_with("M1.0 2.0L"));
        assert!(hull_path(&hull).ends_with('Z'));
    }

    #[test]
    fn presses_find_the_nearest_node() {
        let l = layout(L, 5, &whole(5));
        let p1 = l.nodes[0];
        assert_eq!(node_at(&l.nodes, p1), Some(1));
        assert_eq!(node_at(&l.nodes, Point::new(p1.x + HIT_R - 1.0, p1.y)), Some(1));
        assert_eq!(node_at(&l.nodes, CENTRE), None);
        assert!(is_empty_space(L, &l.nodes, CENTRE, None));
        assert!(!is_empty_space(L, &l.nodes, Point::new(p1.x + 20.0, p1.y), None));
        assert!(is_empty_space(L, &l.nodes, Point::new(p1.x + 20.0, p1.y), Some(1)));
        assert!(!is_empty_space(L, &l.nodes, Point::new(-5.0, 10.0), None));
    }

    #[test]
    fn drops_mean_alone_join_or_nothing() {
        let l = layout(L, 5, &whole(5));
        let home = l.nodes[0];
        assert_eq!(drop_target(L, &l.nodes, 1, home, CENTRE), DropTarget::Alone);
        assert_eq!(
            drop_target(L, &l.nodes, 1, home, Point::new(home.x + 10.0, home.y)),
            DropTarget::Cancel
        );
        let n3 = l.nodes[2];
        assert_eq!(
            drop_target(L, &l.nodes, 1, home, Point::new(n3.x + 30.0, n3.y + 30.0)),
            DropTarget::Join(3)
        );
        assert_eq!(
            drop_target(L, &l.nodes, 1, home, Point::new(L.w + 10.0, 10.0)),
            DropTarget::Cancel
        );
    }

    #[test]
    fn regrouping_moves_one_node() {
        let w = whole(5);
        assert_eq!(
            regroup(5, &w, 1, DropTarget::Alone),
            Some(vec![vec![1], vec![2, 3, 4, 5]])
        );
        assert_eq!(
            regroup(5, &w, 3, DropTarget::Alone),
            Some(vec![vec![1, 2, 4, 5], vec![3]])
        );
        assert_eq!(regroup(5, &w, 1, DropTarget::Join(2)), None);
        assert_eq!(regroup(5, &w, 1, DropTarget::Cancel), None);
        let split = vec![vec![1], vec![2, 3, 4, 5]];
        assert_eq!(regroup(5, &split, 1, DropTarget::Alone), None);
        assert_eq!(regroup(5, &split, 1, DropTarget::Join(4)), Some(w.clone()));
        assert_eq!(
            regroup(5, &split, 4, DropTarget::Join(1)),
            Some(vec![vec![1, 4], vec![2, 3, 5]])
        );
        assert_eq!(
            partition_action(regroup(5, &split, 1, DropTarget::Join(4)).unwrap()),
            Action::Heal
        );
        assert_eq!(
            partition_action(vec![vec![1, 4], vec![2, 3, 5]]),
            Action::Partition(vec![vec![1, 4], vec![2, 3, 5]])
        );
    }

    /// Any grouping can be reached from any other by single drags: isolate every node that is
    /// not already where it belongs, then join each to the first member of its target island.
    #[test]
    fn any_grouping_is_reachable_by_drags() {
        let n = 6;
        let targets: Vec<Vec<Vec<NodeId>>> = vec![
            vec![vec![1, 6], vec![2, 4], vec![3, 5]],
            (1..=6).map(|i| vec![i]).collect(),
            whole(6),
            vec![vec![1, 2, 3, 4, 5], vec![6]],
        ];
        let mut current = vec![vec![1, 2, 3], vec![4, 5, 6]];
        for target in targets {
            for id in 1..=n as NodeId {
                if let Some(g) = regroup(n, &current, id, DropTarget::Alone) {
                    current = g;
                }
            }
            for group in &target {
                for &id in &group[1..] {
                    current = regroup(n, &current, id, DropTarget::Join(group[0])).unwrap();
                }
            }
            assert_eq!(current, normalize_islands(n, &target));
        }
    }

    #[test]
    fn clicking_a_link_cycles_its_cuts() {
        let l = layout(L, 3, &whole(3));
        let mut cuts: Vec<(NodeId, NodeId)> = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..4 {
            let state = link_state(&l, &cuts, 2, 1);
            seen.push(state);
            for action in link_cycle(2, 1, state) {
                match action {
                    Action::Cut { from, to, both } => {
                        cuts.push((from, to));
                        if both {
                            cuts.push((to, from));
                        }
                    }
                    Action::Restore { from, to, both } => {
                        cuts.retain(|&c| c != (from, to) && !(both && c == (to, from)));
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(
            seen,
            [
                LinkState::Whole,
                LinkState::CutForward,
                LinkState::CutBackward,
                LinkState::CutBoth
            ]
        );
        assert!(cuts.is_empty());
        let split = layout(L, 3, &[vec![1], vec![2, 3]]);
        assert_eq!(link_state(&split, &[], 1, 2), LinkState::Partitioned);
        assert!(link_cycle(1, 2, LinkState::Partitioned).is_empty());
    }

    #[test]
    fn client_points_map_to_the_viewbox() {
        // Twice the viewBox's size, wider than its aspect: letterboxed left and right.
        let rect = Rect {
            left: 10.0,
            top: 20.0,
            width: 2.0 * L.w + 100.0,
            height: 2.0 * L.h,
        };
        let p = client_to_view(L, rect, 10.0 + 50.0, 20.0).unwrap();
        assert!(p.distance(Point::new(0.0, 0.0)) < 1e-9);
        let q = client_to_view(L, rect, 10.0 + 50.0 + L.w, 20.0 + L.h).unwrap();
        assert!(q.distance(Point::new(L.w / 2.0, L.h / 2.0)) < 1e-9);
        assert_eq!(
            client_to_view(
                L,
                Rect {
                    left: 0.0,
                    top: 0.0,
                    width: 0.0,
                    height: 10.0
                },
                1.0,
                1.0
            ),
            None
        );
    }

    #[test]
    fn messages_keep_to_their_lane() {
        let a = Point::new(0.0, 0.0);
        let b = Point::new(100.0, 0.0);
        let there = message_point(a, b, 0.5);
        let back = message_point(b, a, 0.5);
        assert!((there.x - 50.0).abs() < 1e-9 && (back.x - 50.0).abs() < 1e-9);
        assert!((there.y - back.y).abs() > LANE);
        assert_eq!(message_point(a, a, 0.3), a);
    }
}
