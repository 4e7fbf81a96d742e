//! How a unikernel's run ended: one type for the in-process host, the guest kernel and
//! the tender. The kernel sends it across in a [`Report`](crate::Report) (its [`code`]s
//! and fields), and the tender reads it back with [`Outcome::from_report`], so both
//! isolations end a run the same way and every host reports it in the same words. Only
//! what the kernel can know crosses: a time-out and a failed kernel are the tender's to
//! say, and a report claiming either is refused.

use alloc::string::String;
use core::time::Duration;

/// The name under which a unikernel exports its entry point, whose `run` the host (or
/// the guest kernel) calls; an outcome says how that call ended.
pub const MAIN_EXPORT: &str = "ukc:app/main@0.1.0";

/// How a unikernel's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `run` returned `ok`.
    Finished,
    /// `run` returned `err` with this message.
    Failed(String),
    /// The unikernel called `exit` with this status.
    Exited(u8),
    /// The unikernel trapped.
    Trapped {
        /// The component it trapped in.
        component: String,
        /// How.
        trap: String,
    },
    /// The host stopped the unikernel: it broke a rule, such as acquiring an undeclared
    /// device.
    Stopped {
        /// The component that broke it.
        component: String,
        /// Why.
        message: String,
    },
    /// The unikernel ran past the host's time limit.
    TimedOut(Duration),
    /// The unikernel could not be linked against the host's interfaces.
    CannotLink(String),
    /// The unikernel does not export the entry point.
    NoEntryPoint,
    /// The guest kernel could not load the unikernel's machine code; the message says why.
    CannotLoad(String),
    /// The guest kernel itself failed (a panic, a fault, a broken hypercall).
    KernelFailed(String),
}

/// The outcome codes of a [`Report`](crate::Report).
pub mod code {
    /// [`Outcome::Finished`](super::Outcome::Finished).
    pub const FINISHED: u64 = 0;
    /// [`Outcome::Failed`](super::Outcome::Failed): the message.
    pub const FAILED: u64 = 1;
    /// [`Outcome::Exited`](super::Outcome::Exited): the status.
    pub const EXITED: u64 = 2;
    /// [`Outcome::Trapped`](super::Outcome::Trapped): the component and the trap.
    pub const TRAPPED: u64 = 3;
    /// [`Outcome::Stopped`](super::Outcome::Stopped): the component and the message.
    pub const STOPPED: u64 = 4;
    /// [`Outcome::CannotLink`](super::Outcome::CannotLink): the message.
    pub const CANNOT_LINK: u64 = 5;
    /// [`Outcome::NoEntryPoint`](super::Outcome::NoEntryPoint).
    pub const NO_ENTRY_POINT: u64 = 6;
    /// [`Outcome::CannotLoad`](super::Outcome::CannotLoad): the message.
    pub const CANNOT_LOAD: u64 = 7;
}

/// An outcome as a report carries it: the code, the status, the component and the message.
pub struct Fields<'a> {
    /// One of the [`code`]s.
    pub code: u64,
    /// The exit status.
    pub status: u64,
    /// The component it happened in, or empty.
    pub component: &'a str,
    /// What happened, or empty.
    pub message: &'a str,
}

impl Outcome {
    /// The fields a report carries for this outcome; `None` for the outcomes only the
    /// tender decides ([`Outcome::TimedOut`], [`Outcome::KernelFailed`]).
    pub fn fields(&self) -> Option<Fields<'_>> {
        let fields = |code, status, component, message| Some(Fields { code, status, component, message });
        match self {
            Outcome::Finished => fields(code::FINISHED, 0, "", ""),
            Outcome::Failed(message) => fields(code::FAILED, 0, "", message),
            Outcome::Exited(status) => fields(code::EXITED, u64::from(*status), "", ""),
            Outcome::Trapped { component, trap } => fields(code::TRAPPED, 0, component, trap),
            Outcome::Stopped { component, message } => fields(code::STOPPED, 0, component, message),
            Outcome::CannotLink(message) => fields(code::CANNOT_LINK, 0, "", message),
            Outcome::NoEntryPoint => fields(code::NO_ENTRY_POINT, 0, "", ""),
            Outcome::CannotLoad(message) => fields(code::CANNOT_LOAD, 0, "", message),
            Outcome::TimedOut(_) | Outcome::KernelFailed(_) => None,
        }
    }

    /// The outcome a report's fields stand for; `None` for an unknown code, or an exit
    /// status that is not a byte.
    pub fn from_report(code: u64, status: u64, component: String, message: String) -> Option<Outcome> {
        Some(match code {
            code::FINISHED => Outcome::Finished,
            code::FAILED => Outcome::Failed(message),
            code::EXITED => Outcome::Exited(u8::try_from(status).ok()?),
            code::TRAPPED => Outcome::Trapped { component, trap: message },
            code::STOPPED => Outcome::Stopped { component, message },
            code::CANNOT_LINK => Outcome::CannotLink(message),
            code::NO_ENTRY_POINT => Outcome::NoEntryPoint,
            code::CANNOT_LOAD => Outcome::CannotLoad(message),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn the_kernels_outcomes_cross_a_report_unchanged_and_nothing_else_does() {
        let outcomes = vec![
            Outcome::Finished,
            Outcome::Failed("no".into()),
            Outcome::Exited(7),
            Outcome::Trapped { component: "app".into(), trap: "unreachable".into() },
            Outcome::Stopped { component: "kv-tar".into(), message: "undeclared device".into() },
            Outcome::CannotLink("missing import".into()),
            Outcome::NoEntryPoint,
            Outcome::CannotLoad("bad artifact".into()),
        ];
        for outcome in outcomes {
            let f = outcome.fields().unwrap();
            let back = Outcome::from_report(f.code, f.status, f.component.to_string(), f.message.to_string());
            assert_eq!(back.as_ref(), Some(&outcome));
        }
        assert_eq!(Outcome::TimedOut(Duration::from_secs(1)).fields().map(|f| f.code), None);
        assert_eq!(Outcome::KernelFailed("no".into()).fields().map(|f| f.code), None);
        for code in [8, 9, u64::MAX] {
            assert_eq!(Outcome::from_report(code, 0, String::new(), String::new()), None, "code {code}");
        }
        assert_eq!(Outcome::from_report(code::EXITED, 255, String::new(), String::new()), Some(Outcome::Exited(255)));
        assert_eq!(Outcome::from_report(code::EXITED, 256, String::new(), String::new()), None);
    }
}
