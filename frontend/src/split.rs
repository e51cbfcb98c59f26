//! The page's resizable splits: the code column's share of the work area and
//! the lesson panel's width, dragged (pointer) or moved with the arrow keys
//! on a separator, and kept per browser in localStorage.

use yew::prelude::*;

use crate::num;
use socklab_wire::decimal;

/// Where the splits are kept between visits.
pub const SPLITS_KEY: &str = "socklab.splits";

/// The sizes the learner chose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Splits {
    /// The code column's share of the work area (code and kernel views), in percent.
    pub code: f64,
    /// The lesson panel's width in CSS pixels.
    pub lesson: f64,
}

/// Limits of each split: (least, most, one arrow key's move).
pub const CODE_LIMITS: (f64, f64, f64) = (25.0, 80.0, 2.0);
pub const LESSON_LIMITS: (f64, f64, f64) = (240.0, 720.0, 16.0);

impl Default for Splits {
    fn default() -> Splits {
        Splits { code: 64.0, lesson: 320.0 }
    }
}

impl Splits {
    /// Reads `code,lesson` as kept; anything unreadable or out of range falls back to the default.
    pub fn parse(text: &str) -> Splits {
        let default = Splits::default();
        let mut parts = text.split(',').map(|p| num::parse(p.trim()).filter(|v| v.is_finite()));
        let (code, lesson) = (parts.next().flatten(), parts.next().flatten());
        Splits {
            code: code.map_or(default.code, |v| clamp(v, CODE_LIMITS)),
            lesson: lesson.map_or(default.lesson, |v| clamp(v, LESSON_LIMITS)),
        }
    }

    /// The text kept in localStorage.
    pub fn keep_text(&self) -> String {
        format!("{},{}", decimal::fixed(self.code, 1), decimal::fixed(self.lesson, 0))
    }

    /// The CSS custom properties the layout reads.
    pub fn style(&self) -> String {
        format!("--code-share: {}%; --lesson-width: {}px", decimal::fixed(self.code, 1), decimal::fixed(self.lesson, 0))
    }
}

/// `value` within `(least, most, _)`.
pub fn clamp(value: f64, (least, most, _): (f64, f64, f64)) -> f64 {
    // Not f64::clamp: its panic message would bring float formatting into the page.
    if value < least { least } else if value > most { most } else { value }
}

#[derive(Properties, PartialEq)]
pub struct SplitterProps {
    /// What the separator resizes, for assistive technology.
    pub label: AttrValue,
    pub value: f64,
    pub kind: Split,
    pub on_change: Callback<f64>,
}

/// Which split a separator moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The code column's share (left of its separator), in percent of the work area.
    Code,
    /// The lesson panel's width (right of its separator), in pixels.
    Lesson,
}

impl Split {
    /// (least, most, one arrow key's move).
    pub fn limits(self) -> (f64, f64, f64) {
        match self {
            Split::Code => CODE_LIMITS,
            Split::Lesson => LESSON_LIMITS,
        }
    }

    /// The value after the pointer moved `dx` CSS pixels right from where the
    /// value was `start`, in a separator's parent `width` pixels wide.
    pub fn moved(self, start: f64, dx: f64, width: f64) -> f64 {
        match self {
            Split::Code => start + dx / width * 100.0,
            Split::Lesson => start - dx,
        }
    }
}

/// A vertical separator between two columns: drag it, or focus it and use
/// the arrow keys (Home and End go to the limits).
#[component]
pub fn Splitter(props: &SplitterProps) -> Html {
    // (pointer id, start x, start value, parent width) while dragging.
    let drag = use_mut_ref(|| None::<(i32, f64, f64, f64)>);
    let (kind, limits) = (props.kind, props.kind.limits());
    let onpointerdown = {
        let (drag, value) = (drag.clone(), props.value);
        Callback::from(move |event: PointerEvent| {
            let target = event.target_unchecked_into::<web_sys::Element>();
            let width = target.parent_element().map_or(1.0, |p| p.get_bounding_client_rect().width().max(1.0));
            // A refused capture only means the drag ends when the pointer leaves the separator.
            let _ = target.set_pointer_capture(event.pointer_id());
            *drag.borrow_mut() = Some((event.pointer_id(), f64::from(event.client_x()), value, width));
            event.prevent_default();
        })
    };
    let onpointermove = {
        let (drag, on_change) = (drag.clone(), props.on_change.clone());
        Callback::from(move |event: PointerEvent| {
            let Some((id, x, start, width)) = *drag.borrow() else { return };
            if id == event.pointer_id() {
                on_change.emit(clamp(kind.moved(start, f64::from(event.client_x()) - x, width), limits));
            }
        })
    };
    let end = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| *drag.borrow_mut() = None)
    };
    let onkeydown = {
        let (value, on_change) = (props.value, props.on_change.clone());
        let direction = kind.moved(0.0, 1.0, 1000.0).signum();
        Callback::from(move |event: KeyboardEvent| {
            let (least, most, step) = limits;
            let next = match event.key().as_str() {
                "ArrowLeft" => value - step * direction,
                "ArrowRight" => value + step * direction,
                "Home" => least,
                "End" => most,
                _ => return,
            };
            event.prevent_default();
            on_change.emit(clamp(next, limits));
        })
    };
    html! {
        <div class="splitter" role="separator" tabindex="0" aria-orientation="vertical" aria-label={props.label.clone()}
            aria-valuenow={decimal::fixed(props.value, 0)} aria-valuemin={decimal::fixed(limits.0, 0)} aria-valuemax={decimal::fixed(limits.1, 0)}
            {onpointerdown} {onpointermove} onpointerup={end.clone()} onpointercancel={end} {onkeydown}></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_read_back_and_bad_text_falls_back() {
        let splits = Splits { code: 61.5, lesson: 400.0 };
        assert_eq!(Splits::parse(&splits.keep_text()), splits);
        assert_eq!(Splits::parse(""), Splits::default());
        assert_eq!(Splits::parse("nan,abc"), Splits::default());
        assert_eq!(Splits::parse("99,5"), Splits { code: 80.0, lesson: 240.0 });
    }

    #[test]
    fn moves_follow_the_pointer() {
        assert_eq!(Split::Code.moved(50.0, 100.0, 1000.0), 60.0);
        assert_eq!(Split::Lesson.moved(300.0, 40.0, 1000.0), 260.0);
    }
}
