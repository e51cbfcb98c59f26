//! The session's links and their controls: which links the hosts make (one
//! between two hosts; with one or three or more, each host's cable to the
//! switch), what the relay last confirmed each does, and a form per link that
//! sends `lab_link` between steps.

use socklab_wire::decimal;
use socklab_wire::network::{LinkConditions, parse_rate_with};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::num;

/// One link, as `lab_link` names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub a: String,
    pub b: Option<String>,
    /// `laptop—server`, or a host's name for its cable to the switch.
    pub label: String,
}

/// What the page knows of a link: the conditions the relay confirmed, a
/// change sent and not answered, or why the last one was refused.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinkState {
    pub conditions: LinkConditions,
    pub waiting: bool,
    pub error: Option<String>,
}

/// The links the relay makes for `hosts` (in `lab_hosts` order).
pub fn links(hosts: &[String]) -> Vec<Link> {
    match hosts {
        [a, b] => vec![Link { a: a.clone(), b: Some(b.clone()), label: format!("{a}—{b}") }],
        _ => hosts.iter().map(|host| Link { a: host.clone(), b: None, label: host.clone() }).collect(),
    }
}

/// Which link `lab_link(a, b)` sets, by label (None: no such link).
pub fn label_of(hosts: &[String], a: &str, b: Option<&str>) -> Option<String> {
    let known = |name: &str| hosts.iter().any(|host| host == name);
    match (hosts.len(), b) {
        (2, b) if known(a) && b.is_none_or(|b| known(b) && b != a) => Some(format!("{}—{}", hosts[0], hosts[1])),
        (2, _) => None,
        (_, None) if known(a) => Some(a.to_owned()),
        _ => None,
    }
}

/// The conditions in words: `delay 40 ms · loss 1% · rate 1 Mbit/s`.
pub fn describe(c: &LinkConditions) -> String {
    let mut parts = Vec::new();
    let ms = |s: f64| format!("{} ms", decimal::short((s * 1e6).round() / 1e3));
    if c.delay > 0.0 {
        parts.push(format!("delay {}", ms(c.delay)));
    }
    if c.jitter > 0.0 {
        parts.push(format!("jitter {}", ms(c.jitter)));
    }
    for (name, value) in [("loss", c.loss), ("duplicate", c.duplicate), ("reorder", c.reorder), ("corrupt", c.corrupt)] {
        if value > 0.0 {
            parts.push(format!("{name} {}%", decimal::short(value)));
        }
    }
    if let Some(rate) = c.rate {
        parts.push(match rate {
            r if r >= 1_000_000 && r % 1_000 == 0 => format!("rate {} Mbit/s", decimal::short(r as f64 / 1e6)),
            r if r >= 1_000 => format!("rate {} kbit/s", decimal::short(r as f64 / 1e3)),
            r => format!("rate {r} bit/s"),
        });
    }
    if let Some(mtu) = c.mtu {
        parts.push(format!("mtu {mtu}"));
    }
    if parts.is_empty() { "a perfect link: no delay, no loss, no rate limit".into() } else { parts.join(" · ") }
}

/// The conditions a link form holds (delays in milliseconds, rates as
/// `lab_link` takes them: `1mbit`, `512kbit`, bits per second), or what is wrong.
pub fn read_form(field: impl Fn(&str) -> String) -> Result<LinkConditions, String> {
    let number = |name: &str, scale: f64| -> Result<f64, String> {
        let text = field(name);
        let text = text.trim();
        if text.is_empty() {
            return Ok(0.0);
        }
        num::parse(text).map(|v| v * scale).ok_or_else(|| format!("{name} must be a number, not {text:?}"))
    };
    let rate = field("rate");
    let mtu = field("mtu");
    Ok(LinkConditions {
        delay: number("delay", 1e-3)?,
        jitter: number("jitter", 1e-3)?,
        loss: number("loss", 1.0)?,
        duplicate: number("duplicate", 1.0)?,
        reorder: number("reorder", 1.0)?,
        corrupt: number("corrupt", 1.0)?,
        rate: if rate.trim().is_empty() { None } else { Some(parse_rate_with(&rate, num::parse)?) },
        mtu: if mtu.trim().is_empty() {
            None
        } else {
            Some(mtu.trim().parse().map_err(|_| format!("mtu must be a whole number, not {:?}", mtu.trim()))?)
        },
    })
}

/// The value of a form's `<input name=NAME>` (empty when there is none).
pub fn form_field(form: &web_sys::HtmlElement, name: &str) -> String {
    form.query_selector(&format!("input[name={name}]"))
        .ok()
        .flatten()
        .map(|e| wasm_bindgen::JsCast::unchecked_into::<HtmlInputElement>(e).value())
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct LinkPanelProps {
    pub links: Vec<Link>,
    pub states: litemap::LiteMap<String, LinkState>,
    /// Set a link's conditions (the relay answers), or a form the page cannot read.
    pub on_apply: Callback<(Link, Result<LinkConditions, String>)>,
}

/// Each link with its conditions now and a form to change them.
#[component]
pub fn LinkPanel(props: &LinkPanelProps) -> Html {
    let form = |(index, link): (usize, &Link)| {
        let state = props.states.get(&link.label).cloned().unwrap_or_default();
        let c = state.conditions;
        let onsubmit = {
            let (on_apply, link) = (props.on_apply.clone(), link.clone());
            Callback::from(move |event: SubmitEvent| {
                event.prevent_default();
                let form = event.target_unchecked_into::<web_sys::HtmlElement>();
                on_apply.emit((link.clone(), read_form(|name| form_field(&form, name))));
            })
        };
        let num = |v: f64, scale: f64| if v > 0.0 { decimal::short((v * scale * 1e3).round() / 1e3) } else { String::new() };
        let fields = [
            ("delay", "delay (ms)", num(c.delay, 1e3)),
            ("jitter", "jitter (ms)", num(c.jitter, 1e3)),
            ("loss", "loss (%)", num(c.loss, 1.0)),
            ("duplicate", "duplicate (%)", num(c.duplicate, 1.0)),
            ("reorder", "reorder (%)", num(c.reorder, 1.0)),
            ("corrupt", "corrupt (%)", num(c.corrupt, 1.0)),
            ("rate", "rate (e.g. 1mbit)", c.rate.map(|r| r.to_string()).unwrap_or_default()),
            ("mtu", "mtu", c.mtu.map(|m| m.to_string()).unwrap_or_default()),
        ];
        let inputs = fields.into_iter().map(|(name, label, value)| {
            let id = format!("link{index}-{name}");
            html! {
                <label for={id.clone()}>{ label }
                    <input {id} {name} type="text" inputmode="decimal" size="6" {value} />
                </label>
            }
        });
        let title = match &link.b {
            Some(b) => format!("link {} — {b}", link.a),
            None => format!("{}'s cable to the switch", link.a),
        };
        html! {
            <form class="link" data-link={link.label.clone()} aria-label={title.clone()} {onsubmit}>
                <h3>{ title }</h3>
                <p class="link-now" role="status" aria-live="polite">
                    { if state.waiting { "applying…".to_owned() } else { describe(&c) } }
                </p>
                if let Some(error) = &state.error {
                    <p class="link-error" role="alert">{ error.clone() }</p>
                }
                <div class="link-fields">{ for inputs }</div>
                <button type="submit" class="apply-link">{ format!("Apply to {}", link.label) }</button>
            </form>
        }
    };
    html! {
        <section class="links" aria-label="links between the hosts">
            <h2>{ "Links" }</h2>
            { for props.links.iter().enumerate().map(form) }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn links_follow_the_hosts_as_the_relay_makes_them() {
        let two = names(&["server", "laptop"]);
        assert_eq!(links(&two).iter().map(|l| l.label.as_str()).collect::<Vec<_>>(), ["server—laptop"]);
        assert_eq!(label_of(&two, "laptop", Some("server")).as_deref(), Some("server—laptop"));
        assert_eq!(label_of(&two, "laptop", None).as_deref(), Some("server—laptop"));
        assert_eq!(label_of(&two, "laptop", Some("laptop")), None);
        let three = names(&["a", "b", "c"]);
        assert_eq!(links(&three).len(), 3);
        assert_eq!(label_of(&three, "b", None).as_deref(), Some("b"));
        assert_eq!(label_of(&three, "b", Some("c")), None);
    }

    #[test]
    fn a_form_reads_as_lab_link_takes_it() {
        let form = |delay: &str, rate: &str| {
            let (delay, rate) = (delay.to_owned(), rate.to_owned());
            read_form(move |name| match name {
                "delay" => delay.clone(),
                "rate" => rate.clone(),
                "loss" => "1.5".into(),
                _ => String::new(),
            })
        };
        let c = form("40", "1mbit").unwrap();
        assert_eq!((c.delay, c.loss, c.rate, c.mtu), (0.04, 1.5, Some(1_000_000), None));
        assert_eq!(describe(&c), "delay 40 ms · loss 1.5% · rate 1 Mbit/s");
        assert!(form("soon", "").unwrap_err().contains("delay"));
        assert!(form("", "fast").is_err());
        assert!(describe(&LinkConditions::default()).contains("perfect"));
    }
}
