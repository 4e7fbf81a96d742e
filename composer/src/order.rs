//! Instantiation order: every provider before its importers, the entry point last, and a
//! cycle reported as the chain of imports that forms it.

use crate::component::Component;
use crate::resolve::{Link, Provider};
use anyhow::{Result, anyhow};

/// Nodes in instantiation order, their links renumbered to match.
pub struct Ordered {
    /// The nodes, every provider before its importers; `root` last.
    pub nodes: Vec<Component>,
    /// The links, with the new indices.
    pub links: Vec<Link>,
    /// The new index of each old node (`usize::MAX` for a dropped one).
    pub index: Vec<usize>,
}

/// Reorders `nodes` so that providers come first and `root` (the node whose export is the
/// entry point) last, drops drivers nothing reaches from it, and renumbers the links.
pub fn instantiation_order(nodes: Vec<Component>, links: Vec<Link>, root: usize) -> Result<Ordered> {
    let mut state = vec![Mark::Unvisited; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    let mut path = Vec::new();
    visit(root, &links, &nodes, &mut state, &mut order, &mut path)?;

    let mut new_index = vec![usize::MAX; nodes.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let links = links
        .into_iter()
        .filter(|l| new_index[l.importer] != usize::MAX)
        .map(|l| Link {
            importer: new_index[l.importer],
            import: l.import,
            provider: match l.provider {
                Provider::Node { node, export } => Provider::Node { node: new_index[node], export },
                platform => platform,
            },
        })
        .collect();
    let mut slots: Vec<Option<Component>> = nodes.into_iter().map(Some).collect();
    let nodes = order.iter().map(|&old| slots[old].take().expect("each node once")).collect();
    Ok(Ordered { nodes, links, index: new_index })
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    Unvisited,
    InProgress,
    Done,
}

/// Depth-first post-order; `path` holds the links being followed, to name a cycle.
fn visit<'a>(
    node: usize,
    links: &'a [Link],
    nodes: &[Component],
    state: &mut [Mark],
    order: &mut Vec<usize>,
    path: &mut Vec<&'a Link>,
) -> Result<()> {
    state[node] = Mark::InProgress;
    for link in links.iter().filter(|l| l.importer == node) {
        let Provider::Node { node: provider, .. } = &link.provider else {
            continue;
        };
        path.push(link);
        match state[*provider] {
            Mark::Done => {}
            Mark::Unvisited => visit(*provider, links, nodes, state, order, path)?,
            Mark::InProgress => return Err(cycle(*provider, path, nodes)),
        }
        path.pop();
    }
    state[node] = Mark::Done;
    order.push(node);
    Ok(())
}

fn cycle(start: usize, path: &[&Link], nodes: &[Component]) -> anyhow::Error {
    let from = path.iter().position(|l| l.importer == start).unwrap_or(0);
    let steps: Vec<String> = path[from..]
        .iter()
        .map(|l| {
            let Provider::Node { node, .. } = &l.provider else { unreachable!("cycles run through drivers") };
            format!("{} imports {} from {}", nodes[l.importer].name, l.import, nodes[*node].name)
        })
        .collect();
    anyhow!(
        "the drivers depend on each other in a cycle, so none of them can be instantiated first: {}.\n  \
         Break the cycle by choosing another provider for one of these imports with --use INTERFACE=DRIVER.",
        steps.join(", ")
    )
}
