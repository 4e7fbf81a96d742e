//! What the components `ukc compose` generates share (`args-declarations`, `kv-image`,
//! `kv-preopens`):
//! each is data in a core module's memory behind one exported interface, written with
//! wasm-encoder and componentized with wit-component against ukc's WIT, like any guest.
//! Resolution sees a placeholder with the same name, manifest and exports; the component
//! itself is made only where it is linked.

use crate::component::{Component, Origin};
use crate::wit::platform_resolve;
use anyhow::{Context, Result};
use ukc_manifest::{COMPONENT_SECTION, ComponentManifest, encode_custom_section};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection, Instruction,
    MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wit_component::{ComponentEncoder, StringEncoding};

/// A generated component: its name, what it is for, and the interface it exports.
pub struct Generated {
    pub name: &'static str,
    pub description: &'static str,
    pub interface: &'static str,
}

impl Generated {
    /// What resolution needs of the component: its name, manifest and exports.
    pub fn placeholder(&self) -> Component {
        Component {
            name: self.name.into(),
            origin: Origin::Generated,
            bytes: Vec::new(),
            manifest: self.manifest(),
            has_manifest: true,
            imports: Vec::new(),
            exports: vec![self.interface.into()],
        }
    }

    /// The component of `module`, a core module exporting the interface's functions.
    pub fn component(&self, mut module: Vec<u8>) -> Result<Component> {
        module.extend(encode_custom_section(COMPONENT_SECTION, &self.manifest().to_json()));
        let (mut resolve, _) = platform_resolve()?;
        let world = format!("package ukc-generated:{0};\nworld {0} {{ export {1}; }}\n", self.name, self.interface);
        let package = resolve.push_str(format!("{}.wit", self.name), &world)?;
        let world = resolve.select_world(&[package], Some(self.name))?;
        wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
        let bytes = ComponentEncoder::default()
            .validate(true)
            .module(&module)?
            .encode()
            .with_context(|| format!("encoding the generated {} component", self.name))?;
        Component::from_bytes(bytes, Origin::Generated, self.name)
    }

    fn manifest(&self) -> ComponentManifest {
        ComponentManifest {
            schema: ukc_manifest::SCHEMA,
            name: self.name.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: self.description.into(),
            ..Default::default()
        }
    }
}

/// One linear memory of exactly `pages` 64 KiB pages: the data never grows.
pub fn fixed_memory(pages: u64) -> MemorySection {
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: pages,
        maximum: Some(pages),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    memories
}

/// Where the text starts in a [`string_module`]'s memory; bytes 0..8 hold the return
/// area: the string's pointer and length, as the canonical ABI returns a `string`.
const TEXT_AT: u32 = 16;

/// A core module exporting `memory` and the function `export` (`INTERFACE#NAME`), which
/// returns `text` as a WIT `string`: a pointer to the return area, filled in advance.
pub fn string_module(export: &str, text: &[u8]) -> Result<Vec<u8>> {
    let length = u32::try_from(text.len()).context("the generated text is over 4 GiB")?;
    let pages = (u64::from(TEXT_AT) + u64::from(length)).div_ceil(65536);
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let memories = fixed_memory(pages);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export(export, ExportKind::Func, 0);
    let mut body = Function::new([]);
    body.instruction(&Instruction::I32Const(0));
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut return_area = TEXT_AT.to_le_bytes().to_vec();
    return_area.extend(length.to_le_bytes());
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(0), return_area);
    data.active(0, &ConstExpr::i32_const(TEXT_AT as i32), text.iter().copied());
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&memories).section(&exports).section(&code).section(&data);
    Ok(module.finish())
}
