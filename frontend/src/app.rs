//! The page: state, the relay connection, and the components laid out.

use yew::prelude::*;

use crate::components::{Controls, Editor, Status, Transcript};
use crate::relay::use_relay;
use crate::state::{Action, State};

#[component]
pub fn App() -> Html {
    let state = use_reducer(State::default);
    let relay = use_relay(state.dispatcher());
    let on_edit = state.dispatcher().to_callback().reform(Action::Edited);
    let on_run = {
        let state = state.clone();
        relay.run.reform(move |()| state.source.clone())
    };
    html! {
        <main>
            <header>
                <h1>{ "socklab" }</h1>
                <Status connection={state.connection.clone()} />
            </header>
            <Editor source={AttrValue::from(state.source.clone())} {on_edit} />
            <Controls can_run={state.can_run()} running={state.running} {on_run} on_stop={relay.stop.clone()} />
            <Transcript lines={state.lines.clone()} dropped={state.dropped} />
        </main>
    }
}
