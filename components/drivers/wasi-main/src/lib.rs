//! The `wasi-main` driver: the entry adapter that makes a WASI program (a component that
//! exports `wasi:cli/run`, such as any Rust program built for `wasm32-wasip2`) a ukc
//! application. `ukc compose` links it after such a program on the `unix` and `hvt`
//! targets, and the `wasi-shim` driver serves the program's WASI imports.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-main;
        world wasi-main {
            import wasi:cli/run@0.2.12;
            import ukc:exit/exit@0.1.0;
            export ukc:app/main@0.1.0;
        }
    ",
    path: ["../../../wit", env!("UKC_WASI_WIT")],
    generate_all,
});

ukc_guest::manifest!("ukc.json");

struct Main;

impl exports::ukc::app::main::Guest for Main {
    /// A program whose `main` fails has said why on its standard error already, so it
    /// ends with exit status 1 and no message of ours (`wasmtime run` does the same).
    fn run() -> Result<(), String> {
        if wasi::cli::run::run().is_err() {
            ukc::exit::exit::exit(1);
        }
        Ok(())
    }
}

export!(Main);
