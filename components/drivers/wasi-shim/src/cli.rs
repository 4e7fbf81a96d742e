//! `wasi:cli`: the command line from `ukc:args/undeclared`, an empty environment, exit
//! through `ukc:exit`, standard streams on the console, and no terminals.

use crate::Shim;
use crate::exports::wasi::cli::{
    environment, exit, stderr, stdin, stdout, terminal_input, terminal_output, terminal_stderr, terminal_stdin,
    terminal_stdout,
};
use crate::exports::wasi::io::streams::{InputStream, OutputStream};
use crate::ukc::args::undeclared;

impl environment::Guest for Shim {
    /// A unikernel has no environment variables: its configuration is its arguments.
    fn get_environment() -> Vec<(String, String)> {
        Vec::new()
    }

    /// The application's name, then the arguments no component declares.
    fn get_arguments() -> Vec<String> {
        undeclared::arguments()
    }

    fn initial_cwd() -> Option<String> {
        None
    }
}

impl exit::Guest for Shim {
    /// WASI 0.2's statuses are success and failure: 0 and 1.
    fn exit(status: Result<(), ()>) {
        crate::ukc::exit::exit::exit(if status.is_ok() { 0 } else { 1 });
    }

    /// The unstable `exit-with-code` (what wasi-libc calls for a status other than 0 or
    /// 1, when the runtime offers it): ukc hosts can keep the status.
    fn exit_with_code(status_code: u8) {
        crate::ukc::exit::exit::exit(status_code);
    }
}

impl stdin::Guest for Shim {
    fn get_stdin() -> InputStream {
        InputStream::new(crate::io::InputStream::Stdin)
    }
}

impl stdout::Guest for Shim {
    fn get_stdout() -> OutputStream {
        OutputStream::new(crate::io::OutputStream::Console)
    }
}

impl stderr::Guest for Shim {
    fn get_stderr() -> OutputStream {
        OutputStream::new(crate::io::OutputStream::Console)
    }
}

/// A terminal; none is ever handed out, since no standard stream is one.
pub struct Terminal;

impl terminal_input::GuestTerminalInput for Terminal {}
impl terminal_output::GuestTerminalOutput for Terminal {}

impl terminal_input::Guest for Shim {
    type TerminalInput = Terminal;
}

impl terminal_output::Guest for Shim {
    type TerminalOutput = Terminal;
}

impl terminal_stdin::Guest for Shim {
    fn get_terminal_stdin() -> Option<terminal_input::TerminalInput> {
        None
    }
}

impl terminal_stdout::Guest for Shim {
    fn get_terminal_stdout() -> Option<terminal_output::TerminalOutput> {
        None
    }
}

impl terminal_stderr::Guest for Shim {
    fn get_terminal_stderr() -> Option<terminal_output::TerminalOutput> {
        None
    }
}
