//! `lab_link(a, b=None, delay=0, jitter=0, loss=0, duplicate=0, reorder=0,
//! corrupt=0, rate=None, mtu=None)`: the conditions of a link between the
//! session's hosts, checked here and applied by the relay.

use socklab_wire::network::{self, LinkConditions};
use socklab_wire::op::Op;
use socklab_wire::protocol::Call;

use super::args::{Args, to_text};
use super::exception::Exception;
use super::value::Value;
use super::sockets::{Flow, Pending};

pub(super) fn lab_link(args: Args) -> Result<Flow, Exception> {
    let [a, b, delay, jitter, loss, duplicate, reorder, corrupt, rate, mtu] = args.bind_op(Op::LabLink)?;
    let a = to_text(&a.unwrap_or(Value::None))?;
    let b = match b {
        None | Some(Value::None) => None,
        Some(b) => Some(to_text(&b)?),
    };
    let number = |v: Option<Value>, what: &str| -> Result<f64, Exception> {
        match v {
            None | Some(Value::None) => Ok(0.0),
            Some(v @ (Value::Int(_) | Value::Bool(_) | Value::Float(_))) => Ok(super::value::as_number(&v).unwrap_or(0.0)),
            Some(other) => Err(Exception::type_error(format!("lab_link {what} must be a number, not {}", other.type_name()))),
        }
    };
    let rate = match rate {
        None | Some(Value::None) => None,
        Some(Value::Str(text)) => Some(network::parse_rate(&text).map_err(Exception::value_error)?),
        Some(Value::Int(bits)) => Some(u64::try_from(bits).map_err(|_| Exception::value_error("lab_link rate must not be negative"))?),
        Some(other) => {
            return Err(Exception::type_error(format!(
                "lab_link rate must be a string such as \"1mbit\" or bits per second, not {}",
                other.type_name()
            )));
        }
    };
    let mtu = match mtu {
        None | Some(Value::None) => None,
        Some(Value::Int(mtu)) => Some(u32::try_from(mtu).unwrap_or(u32::MAX)),
        Some(other) => return Err(Exception::type_error(format!("lab_link mtu must be an int, not {}", other.type_name()))),
    };
    let conditions = LinkConditions {
        delay: number(delay, "delay")?,
        jitter: number(jitter, "jitter")?,
        loss: number(loss, "loss")?,
        duplicate: number(duplicate, "duplicate")?,
        reorder: number(reorder, "reorder")?,
        corrupt: number(corrupt, "corrupt")?,
        rate,
        mtu,
    };
    conditions.check().map_err(Exception::value_error)?;
    Ok(Flow::Call(Call::LabLink { a, b, conditions }, Pending::Plain))
}
