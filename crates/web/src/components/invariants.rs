//! The safety properties of Raft (Figure 3 of the paper), each with whether it still holds. A
//! broken one says what broke and offers a jump to the event that broke it.

use crate::model::PropertyView;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InvariantsProps {
    pub properties: Rc<Vec<PropertyView>>,
    pub on_jump: Callback<usize>,
}

/// What a property promises, in the words of Figure 3.
pub fn meaning(name: &str) -> &'static str {
    match name {
        "Election Safety" => "At most one leader can be elected in a given term.",
        "Log Matching" => "Two logs with an entry of the same index and term are identical up to that index.",
        "Leader Completeness" => "A committed entry is in the log of every leader of a later term.",
        "State Machine Safety" => "No two nodes apply different commands at the same log index.",
        "Leader Append-Only" => "A leader never overwrites or deletes entries in its log.",
        _ => "",
    }
}

/// The summary line: how many properties are broken, and which.
pub fn summary(properties: &[PropertyView]) -> String {
    let broken: Vec<&str> = properties
        .iter()
        .filter(|p| p.broken.is_some())
        .map(|p| p.name)
        .collect();
    match broken.len() {
        0 if properties.is_empty() => "No safety properties are checked in this run.".to_string(),
        0 => format!("All {} safety properties hold.", properties.len()),
        1 => format!("1 of {} properties violated: {}.", properties.len(), broken[0]),
        n => format!(
            "{n} of {} properties violated: {}.",
            properties.len(),
            broken.join(", ")
        ),
    }
}

#[function_component(Invariants)]
pub fn invariants(props: &InvariantsProps) -> Html {
    let any_broken = props.properties.iter().any(|p| p.broken.is_some());
    let rows = props.properties.iter().map(|p| {
        let name = p.name;
        match &p.broken {
            None => html! {
                <li key={name} class="prop holds">
                    <span class="prop-icon" aria-hidden="true">{ "✓" }</span>
                    <span class="prop-name" title={meaning(name)}>{ name }</span>
                    <span class="prop-state">{ "holds" }</span>
                </li>
            },
            Some((time, index, text)) => {
                let (on_jump, index) = (props.on_jump.clone(), *index);
                html! {
                    <li key={name} class="prop violated">
                        <span class="prop-icon" aria-hidden="true">{ "✗" }</span>
                        <span class="prop-name" title={meaning(name)}>{ name }</span>
                        <span class="prop-state">{ "violated" }</span>
                        <div class="prop-detail">
                            <p class="prop-meaning">{ meaning(name) }</p>
                            <p class="prop-text">{ text.as_str() }</p>
                            <p class="prop-when">
                                { format!("at {time}, event #{index} ") }
                                <button type="button" class="btn danger" aria-label={format!("Jump to the event that broke {name}")}
                                    onclick={move |_| on_jump.emit(index)}>{ "Jump to the event" }</button>
                            </p>
                        </div>
                    </li>
                }
            }
        }
    });
    html! {
        <section class={classes!("panel", "invariants", any_broken.then_some("has-violation"))}
            aria-labelledby="invariants-title">
            <h2 id="invariants-title" class="panel-title">{ "Safety" }</h2>
            <p role="status" class={classes!("prop-summary", if any_broken { "bad" } else { "ok" })}>
                { summary(&props.properties) }
            </p>
            <ul class="props">{ for rows }</ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::SimTime;

    #[test]
    fn the_summary_counts_and_names_violations() {
        let holds = |name| PropertyView { name, broken: None };
        let broken = |name| PropertyView {
            name,
            broken: Some((SimTime(5), 3, "x".into())),
        };
        assert_eq!(
            summary(&[holds("Election Safety"), holds("Log Matching")]),
            "All 2 safety properties hold."
        );
        assert_eq!(
            summary(&[broken("Election Safety"), holds("Log Matching")]),
            "1 of 2 properties violated: Election Safety."
        );
        assert_eq!(
            summary(&[broken("A"), broken("B")]),
            "2 of 2 properties violated: A, B."
        );
        assert!(summary(&[]).starts_with("No safety"));
        for name in [
            "Election Safety",
            "Log Matching",
            "Leader Completeness",
            "State Machine Safety",
        ] {
            assert!(!meaning(name).is_empty(), "{name}");
        }
    }
}
