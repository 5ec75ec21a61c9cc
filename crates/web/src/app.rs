//! The application: owns the simulation, advances it on a timer, and renders the stage.

use crate::lab::{ClusterView, Lab};
use crate::ring::Ring;
use deepend_core::script::Script;
use gloo_timers::callback::Interval;
use std::rc::Rc;
use yew::prelude::*;

/// Real milliseconds between two frames.
const FRAME_MS: u32 = 50;
/// Simulated microseconds per frame: a fifth of real time, slow enough to follow an election
/// (timeouts of 150-300 ms take one to two seconds to play out).
const SIM_US_PER_FRAME: u64 = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub view: ClusterView,
    pub playing: bool,
}

pub enum Action {
    /// The simulation advanced; this is what it shows now.
    Frame(ClusterView),
    TogglePlay,
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            // Returning the same Rc tells Yew that nothing changed.
            Action::Frame(view) if view == self.view => self,
            Action::Frame(view) => Rc::new(State {
                view,
                playing: self.playing,
            }),
            Action::TogglePlay => Rc::new(State {
                view: self.view.clone(),
                playing: !self.playing,
            }),
        }
    }
}

#[function_component]
pub fn App() -> Html {
    let lab = use_mut_ref(|| Lab::new(&Script::default()).expect("the default script is a valid Raft run"));
    let state = use_reducer(|| State {
        view: lab.borrow().view().clone(),
        playing: true,
    });

    {
        let (lab, dispatcher) = (lab.clone(), state.dispatcher());
        use_effect_with(state.playing, move |&playing| {
            let interval = playing.then(|| {
                Interval::new(FRAME_MS, move || {
                    if crate::panic::has_panicked() {
                        return;
                    }
                    let view = lab.borrow_mut().advance(SIM_US_PER_FRAME).clone();
                    dispatcher.dispatch(Action::Frame(view));
                })
            });
            // Dropping the interval stops it.
            move || drop(interval)
        });
    }

    let toggle = {
        let dispatcher = state.dispatcher();
        Callback::from(move |_| dispatcher.dispatch(Action::TogglePlay))
    };
    let view = &state.view;

    html! {
        <main class="lab">
            <header class="lab-header">
                <h1>{ "Deep End" }</h1>
                <p class="subtitle">{ format!("Raft, {} nodes: leader election, live", view.nodes.len()) }</p>
            </header>
            <section class="stage" data-stage="raft" aria-label="The cluster">
                <Ring nodes={view.nodes.clone()} />
            </section>
            <footer class="controls">
                <button type="button" class="play" onclick={toggle} aria-pressed={(!state.playing).to_string()}>
                    { if state.playing { "Pause" } else { "Play" } }
                </button>
                <p class="clock">
                    { "simulated time " }
                    <output data-sim-time-us={view.now.as_us().to_string()}>{ view.now.to_string() }</output>
                </p>
            </footer>
        </main>
    }
}
