//! Tracebacks as CPython prints them, and the `traceback` module and
//! `sys.exc_info()`.
//!
//! An exception collects its frames as it unwinds ([`Exception::traceback`],
//! one `(function, line)` pair per frame, innermost first, like CPython's
//! `tb_next` chain read backwards); the text is made only when something
//! prints it, with the source line looked up in the lane's file.

use std::sync::Arc;

use super::args::Args;
use super::class::Instance;
use super::classes::{exception_of, exception_value};
use super::exception::{Exception, Raise, TbEntry};
use super::compile::Span;
use super::library::Object;
use super::value::{Value, lock};
use super::vm::{LaneVm, Next, Shared};
use crate::names::LibFn;

/// CPython's `_RECURSIVE_CUTOFF`: a frame repeated more often is summed up.
const RECURSIVE_CUTOFF: usize = 3;

/// How many chained exceptions a traceback shows at most (a guard against
/// chains a script made endless).
const MAX_CHAIN: usize = 100;

/// Where a traceback's frames come from: the lane's program file and its lines.
pub(super) struct Source<'a> {
    pub file: &'a str,
    pub lines: &'a [String],
}

/// `e.__traceback__`: an opaque object (None when it never was raised).
pub(super) fn traceback_value(e: &Exception) -> Value {
    if e.traceback.is_empty() {
        Value::None
    } else {
        Value::Object(Arc::new(Object::Traceback(e.traceback.clone())))
    }
}

/// The frames an instance's `__traceback__` attribute holds.
pub(super) fn instance_traceback(i: &Instance) -> Vec<TbEntry> {
    match lock(&i.attrs).get("__traceback__") {
        Some(Value::Object(o)) => match &**o {
            Object::Traceback(tb) => tb.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The exception's `__cause__`, `__context__` and `__suppress_context__`
/// (an instance of a script class keeps them as attributes).
fn links(e: &Exception) -> (Option<Exception>, Option<Exception>, bool) {
    match &e.instance {
        Some(i) => {
            let attrs = lock(&i.0.attrs);
            let get = |name: &str| attrs.get(name).and_then(exception_of);
            let suppress = attrs.get("__suppress_context__").is_some_and(Value::truthy);
            (get("__cause__"), get("__context__"), suppress)
        }
        None => (e.cause.as_deref().cloned(), e.context.as_deref().cloned(), e.suppress_context),
    }
}

/// The chunks `traceback.format_exception(e)` returns: for each exception of
/// the chain, outermost first, its traceback header, one chunk per frame and
/// its last line, with CPython's sentences between them.
pub(super) fn format_exception(e: &Exception, src: &Source) -> Vec<String> {
    // The chain, innermost (e) first, with the sentence that leads to the next one.
    let mut chain: Vec<(Exception, Option<&'static str>)> = Vec::new();
    let mut seen: Vec<Arc<Instance>> = Vec::new();
    let mut next = Some((e.clone(), None));
    while let Some((exc, sentence)) = next.take() {
        if let Some(i) = &exc.instance {
            if seen.iter().any(|s| Arc::ptr_eq(s, &i.0)) {
                break;
            }
            seen.push(i.0.clone());
        }
        let (cause, context, suppress) = links(&exc);
        next = match (cause, context) {
            (Some(c), _) => Some((c, Some("The above exception was the direct cause of the following exception:"))),
            (None, Some(c)) if !suppress => {
                Some((c, Some("During handling of the above exception, another exception occurred:")))
            }
            _ => None,
        };
        chain.push((exc, sentence));
        if chain.len() >= MAX_CHAIN {
            break;
        }
    }
    let mut out = Vec::new();
    for (exc, sentence) in chain.iter().rev() {
        out.extend(format_one(exc, src));
        if let Some(s) = sentence {
            out.push(format!("\n{s}\n\n"));
        }
    }
    out
}

/// One exception without its chain: the frames and the last line.
fn format_one(e: &Exception, src: &Source) -> Vec<String> {
    let tb = match &e.instance {
        Some(i) if e.traceback.is_empty() => instance_traceback(&i.0),
        _ => e.traceback.clone(),
    };
    let mut out = Vec::new();
    if !tb.is_empty() {
        out.push("Traceback (most recent call last):\n".to_string());
        out.extend(format_frames(&tb, src));
    }
    out.push(format!("{}\n", e.describe()));
    out
}

/// The frames outermost first, runs of one repeated frame cut after three.
fn format_frames(tb: &[TbEntry], src: &Source) -> Vec<String> {
    let mut out = Vec::new();
    let mut last: Option<&TbEntry> = None;
    let mut count = 0;
    let repeated = |count: usize| {
        let n = count - RECURSIVE_CUTOFF;
        format!("  [Previous line repeated {n} more time{}]\n", if n > 1 { "s" } else { "" })
    };
    for entry in tb.iter().rev() {
        if last != Some(entry) {
            if count > RECURSIVE_CUTOFF {
                out.push(repeated(count));
            }
            last = Some(entry);
            count = 0;
        }
        count += 1;
        if count > RECURSIVE_CUTOFF {
            continue;
        }
        let mut text = format!("  File \"{}\", line {}, in {}\n", src.file, entry.line, entry.function);
        let line = usize::try_from(entry.line).ok().and_then(|n| n.checked_sub(1)).and_then(|n| src.lines.get(n));
        if let Some(original) = line.filter(|l| !l.trim().is_empty()) {
            text.push_str(&format!("    {}\n", original.trim()));
            if let Some(marks) = entry.span.and_then(|span| markers(original, &span)) {
                text.push_str(&format!("    {marks}\n"));
            }
        }
        out.push(text);
    }
    if count > RECURSIVE_CUTOFF {
        out.push(repeated(count));
    }
    out
}

/// CPython 3.11's marker line under the failing expression (without its
/// indent of four): `^` under it, or `~` under a binary operation's operands
/// and a subscript's value with `^` under the operator or the index; None
/// where the expression is the whole line and has no such parts.
fn markers(original: &str, span: &Span) -> Option<String> {
    let chars: Vec<char> = original.chars().collect();
    let leading = chars.iter().take_while(|c| c.is_whitespace()).count();
    let stripped = original.trim().chars().count();
    let start = usize::try_from(span.col).ok()?.checked_sub(1)?;
    let end = if span.end_line == span.line {
        usize::try_from(span.end_col).ok()?.checked_sub(1)?.min(chars.len())
    } else {
        leading + stripped
    };
    let width = end.checked_sub(start).filter(|w| *w > 0)?;
    let anchors = span.anchors.filter(|_| span.end_line == span.line).and_then(|(left, right, binary)| {
        let left = usize::try_from(left).ok()?.checked_sub(1)?.checked_sub(start)?;
        let right = usize::try_from(right).ok()?.checked_sub(1)?.checked_sub(start)?;
        let segment = &chars[start..end];
        if binary {
            // The operator: the first non-space between the operands, two characters for `**`, `//`, `<<`, ….
            let between = segment.get(left..right)?;
            let offset = between.iter().take_while(|c| c.is_whitespace()).count();
            let mut op_end = left + offset + 1;
            if between.get(offset + 1).is_some_and(|c| !c.is_whitespace()) {
                op_end += 1;
            }
            Some((left + offset, op_end))
        } else {
            Some((left, (right + 1).min(width)))
        }
    });
    if width >= stripped && anchors.is_none_or(|(l, r)| r <= l) {
        return None;
    }
    let mut line = " ".repeat(start.saturating_sub(leading));
    match anchors {
        Some((l, r)) => {
            line.push_str(&"~".repeat(l));
            line.push_str(&"^".repeat(r.saturating_sub(l)));
            line.push_str(&"~".repeat(width.saturating_sub(r)));
        }
        None => line.push_str(&"^".repeat(width)),
    }
    Some(line)
}

/// Whether `traceback`'s functions or `sys.exc_info` are this callee.
pub(super) fn handles(callee: &Value) -> bool {
    matches!(
        callee,
        Value::LibFn(
            LibFn::TracebackPrintExc
                | LibFn::TracebackFormatExc
                | LibFn::TracebackPrintException
                | LibFn::TracebackFormatException
                | LibFn::TracebackFormatExceptionOnly
                | LibFn::SysExcInfo
        )
    )
}

impl LaneVm {
    /// The exception being handled: the innermost `except` clause running,
    /// in this frame or a caller's.
    pub(super) fn handled(&self) -> Option<Arc<Exception>> {
        std::iter::once(&self.frame)
            .chain(self.callers.iter().rev())
            .find_map(|f| f.handling.last().cloned())
    }

    /// The text of the exception's traceback, as this lane's program prints it.
    pub(super) fn traceback_text(&self, e: &Exception, shared: &Shared) -> String {
        let file = lock(&self.process).lib.argv0.clone();
        format_exception(e, &Source { file: &file, lines: &shared.lines }).concat()
    }

    /// `traceback.print_exc()` and the others, `sys.exc_info()`.
    pub(super) fn call_traceback(
        &mut self,
        callee: &Value,
        positional: Vec<Value>,
        keywords: Vec<(String, Value)>,
        shared: &mut Shared,
    ) -> Result<Next, Raise> {
        let Value::LibFn(f) = callee else { return Ok(Next::Continue) };
        let args = Args::new(f.short_name().to_string(), positional, keywords);
        let file = lock(&self.process).lib.argv0.clone();
        let src = Source { file: &file, lines: &shared.lines };
        // The exception a `print_exception`-like call names: `e`, or the
        // legacy `(type, value, tb)` form's value.
        let named = |args: Args| -> Result<Option<Exception>, Exception> {
            // `limit`, `file` and `chain` are taken and not used: the text goes to the lane's output.
            let [first, value, ..] = args.bind::<6>(["exc", "value", "tb", "limit", "file", "chain"], 1)?;
            let v = match value {
                Some(v) if !matches!(v, Value::None) => v,
                _ => first.unwrap_or(Value::None),
            };
            match v {
                Value::None => Ok(None),
                v => exception_of(&v).map(Some).ok_or_else(|| {
                    Exception::type_error(format!("Exception expected for value, {} found", v.type_name()))
                }),
            }
        };
        let none_text = || vec!["NoneType: None\n".to_string()];
        let value = match f {
            LibFn::SysExcInfo => {
                args.bind::<0>([], 0)?;
                match self.handled() {
                    None => Value::tuple(vec![Value::None, Value::None, Value::None]),
                    Some(e) => {
                        let v = exception_value((*e).clone());
                        let class = match &v {
                            Value::Instance(i) => Value::Class(i.class.clone()),
                            _ => Value::ExcClass(e.class),
                        };
                        Value::tuple(vec![class, v, traceback_value(&e)])
                    }
                }
            }
            LibFn::TracebackPrintExc | LibFn::TracebackFormatExc => {
                let _ = args.bind::<3>(["limit", "file", "chain"], 0)?;
                let text = match self.handled() {
                    Some(e) => format_exception(&e, &src).concat(),
                    None => none_text().concat(),
                };
                if *f == LibFn::TracebackFormatExc {
                    Value::str(text)
                } else {
                    self.output.push_str(&text);
                    Value::None
                }
            }
            LibFn::TracebackPrintException => {
                let text = match named(args)? {
                    Some(e) => format_exception(&e, &src).concat(),
                    None => none_text().concat(),
                };
                self.output.push_str(&text);
                Value::None
            }
            LibFn::TracebackFormatException => {
                let chunks = match named(args)? {
                    Some(e) => format_exception(&e, &src),
                    None => none_text(),
                };
                Value::list(chunks.into_iter().map(Value::str).collect())
            }
            _ => {
                let line = match named(args)? {
                    Some(e) => format!("{}\n", e.describe()),
                    None => none_text().concat(),
                };
                Value::list(vec![Value::str(line)])
            }
        };
        self.frame.stack.push(value);
        Ok(Next::Continue)
    }
}
