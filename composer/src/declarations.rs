//! The `args-declarations` component `ukc compose` generates for each unikernel: it
//! exports `ukc:args/declarations`, whose `manifest` returns the unikernel's merged
//! manifest as JSON. On the `wasi` target no ukc host parses the command line, so the
//! `wasi-args` driver reads the declarations from here.
//!
//! It is data, not code: a core module with one function returning a pointer to the
//! JSON in its memory, written with wasm-encoder and componentized with wit-component
//! against ukc's WIT, like any guest.

use crate::component::Component;
use crate::generated::Generated;
use anyhow::{Context, Result};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module,
    TypeSection, ValType,
};

/// The generated component: its name, as drivers and `describe` show it, and interface.
pub const GENERATED: Generated = Generated {
    name: "args-declarations",
    description: "The unikernel's merged manifest, for drivers that parse the command line themselves",
    interface: INTERFACE,
};

/// The interface it exports.
const INTERFACE: &str = "ukc:args/declarations@0.1.0";

/// Where the JSON starts in the module's memory; bytes 0..8 hold the return area: the
/// string's pointer and length, as the canonical ABI returns a `string`.
const JSON_AT: u32 = 16;

/// The component whose `manifest` returns `manifest_json`. (Most unikernels do not link
/// it: only the `wasi` target's drivers read it.)
pub fn component(manifest_json: &[u8]) -> Result<Component> {
    GENERATED.component(core_module(manifest_json)?)
}

/// A module exporting `memory` and `INTERFACE#manifest`, which returns the return area.
fn core_module(json: &[u8]) -> Result<Vec<u8>> {
    let length = u32::try_from(json.len()).context("the merged manifest is over 4 GiB")?;
    let pages = (u64::from(JSON_AT) + u64::from(length)).div_ceil(65536);
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let memories = crate::generated::fixed_memory(pages);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export(&format!("{INTERFACE}#manifest"), ExportKind::Func, 0);
    let mut body = Function::new([]);
    body.instruction(&Instruction::I32Const(0));
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut return_area = JSON_AT.to_le_bytes().to_vec();
    return_area.extend(length.to_le_bytes());
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(0), return_area);
    data.active(0, &ConstExpr::i32_const(JSON_AT as i32), json.iter().copied());
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&memories).section(&exports).section(&code).section(&data);
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_resolves_as_the_component_does() {
        let real = component(b"{}").unwrap();
        let placeholder = GENERATED.placeholder();
        assert_eq!(placeholder.name, real.name);
        assert_eq!(placeholder.imports, real.imports);
        assert_eq!(placeholder.exports, real.exports);
        assert_eq!(placeholder.manifest, real.manifest);
        assert_eq!(placeholder.has_manifest, real.has_manifest);
    }
}
