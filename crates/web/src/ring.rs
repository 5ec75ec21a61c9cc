//! The cluster drawn as nodes on a ring. Role shows as colour, shape and a written label, so
//! that it reads without colour too.

use crate::lab::NodeView;
use deepend_core::protocol::Role;
use deepend_core::sim::NodeStatus;
use yew::prelude::*;

const SIZE: f64 = 400.0;
const RING_RADIUS: f64 = 140.0;
const NODE_RADIUS: f64 = 28.0;

#[derive(Properties, PartialEq)]
pub struct RingProps {
    pub nodes: Vec<NodeView>,
}

#[function_component]
pub fn Ring(props: &RingProps) -> Html {
    let n = props.nodes.len();
    let centre = SIZE / 2.0;
    html! {
        <svg class="ring" viewBox={format!("0 0 {SIZE} {SIZE}")} role="img" aria-label="Raft nodes on a ring">
            <circle class="ring-line" cx={centre.to_string()} cy={centre.to_string()} r={RING_RADIUS.to_string()} />
            { for props.nodes.iter().enumerate().map(|(i, node)| {
                // Node 1 at the top, the others clockwise.
                let angle = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
                let (x, y) = (centre + RING_RADIUS * angle.cos(), centre + RING_RADIUS * angle.sin());
                html! { <Node key={node.id} node={*node} x={x.round()} y={y.round()} /> }
            }) }
        </svg>
    }
}

#[derive(Properties, PartialEq)]
struct NodeProps {
    node: NodeView,
    x: f64,
    y: f64,
}

#[function_component]
fn Node(props: &NodeProps) -> Html {
    let NodeView { id, role, status, term } = props.node;
    let role_name = role.as_str();
    let status_name = status.as_str();
    let label = match status {
        NodeStatus::Up => role_name,
        NodeStatus::Crashed | NodeStatus::Paused => status_name,
    };
    let r = NODE_RADIUS;
    let shape = match role {
        // A leader wears a second ring.
        Role::Leader => html! {
            <>
                <circle class="halo" r={(r + 6.0).to_string()} />
                <circle class="body" r={r.to_string()} />
            </>
        },
        Role::Candidate => html! {
            <polygon class="body" points={format!("0,{} {},0 0,{} {},0", -r - 4.0, r + 4.0, r + 4.0, -r - 4.0)} />
        },
        Role::Follower => html! { <circle class="body" r={r.to_string()} /> },
    };
    html! {
        <g
            class={classes!("node", format!("role-{role_name}"), format!("status-{status_name}"))}
            transform={format!("translate({} {})", props.x, props.y)}
            data-node={id.to_string()}
            data-role={role_name}
            data-status={status_name}
            data-term={term.to_string()}
        >
            <title>{ format!("node {id}: {role_name}, term {term}, {status_name}") }</title>
            { shape }
            <text class="name" dy="0.35em">{ format!("n{id}") }</text>
            <text class="role-label" y={(r + 20.0).to_string()}>{ label }</text>
            <text class="term" y={(r + 36.0).to_string()}>{ format!("term {term}") }</text>
        </g>
    }
}
