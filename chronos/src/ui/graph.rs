//! The dependency graph as a picture: the `/graph/dot` document parsed back into nodes and
//! edges (colours from `/graph/csv`'s last state), laid out in layers and drawn as SVG on the
//! server. Hand-written (about 150 lines) rather than `layout-rs`: a job graph is a DAG, so a
//! longest-path layering with barycentre ordering is enough, and the output needs per-node
//! links and state classes that a general renderer does not give.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use http::Response;
use maud::{html, Markup, PreEscaped};

use super::{enc, read, typed};
use crate::core::Core;
use crate::http::{views, Body};

/// Most nodes drawn; larger graphs get a note instead (the DOT stays available).
const MAX_NODES: usize = 2000;
const NODE_H: f64 = 28.0;
const LAYER_GAP: f64 = 64.0;
const NODE_GAP: f64 = 24.0;
const MARGIN: f64 = 12.0;
/// Approximate width of one character of the 12 px label font.
const CHAR_W: f64 = 7.2;

/// A parsed graph: node labels in DOT id order and `(from, to)` edges between their indices.
#[derive(Debug, Default, PartialEq)]
pub struct Graph {
    /// Labels (job names).
    pub nodes: Vec<String>,
    /// Edges parent → child.
    pub edges: Vec<(usize, usize)>,
}

/// Parses the DOT that `/graph/dot` writes: `N [ label = "name" ];` and `A -> B;` lines.
pub fn parse_dot(dot: &str) -> Graph {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut g = Graph::default();
    for line in dot.lines().map(str::trim) {
        if let Some((id, rest)) = line.split_once(" [") {
            let label = rest
                .split_once("label = \"")
                .and_then(|(_, l)| l.rsplit_once('"'))
                .map(|(l, _)| l.replace("\\\"", "\""))
                .unwrap_or_else(|| id.trim().to_owned());
            ids.insert(id.trim(), g.nodes.len());
            g.nodes.push(label);
        } else if let Some((a, b)) = line.trim_end_matches(';').split_once("->") {
            if let (Some(&a), Some(&b)) = (ids.get(a.trim()), ids.get(b.trim())) {
                g.edges.push((a, b));
            }
        }
    }
    g
}

/// Layers (longest path from a root) and the order within each layer.
fn layout(g: &Graph) -> Vec<Vec<usize>> {
    let n = g.nodes.len();
    let mut layer = vec![0usize; n];
    // Relax at most n times: enough for a DAG, and bounded should a cycle ever appear.
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in &g.edges {
            if layer[b] < layer[a] + 1 && layer[a] + 1 < n {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let depth = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (i, &l) in layer.iter().enumerate() {
        layers[l].push(i);
    }
    // Two downward sweeps of barycentre ordering: children sit under their parents.
    for _ in 0..2 {
        for l in 1..layers.len() {
            let pos: HashMap<usize, usize> = layers[l - 1]
                .iter()
                .enumerate()
                .map(|(p, &v)| (v, p))
                .collect();
            let key = |v: usize| {
                let ps: Vec<usize> = g
                    .edges
                    .iter()
                    .filter(|e| e.1 == v)
                    .filter_map(|e| pos.get(&e.0).copied())
                    .collect();
                #[allow(clippy::cast_precision_loss)]
                let k = if ps.is_empty() {
                    f64::MAX
                } else {
                    ps.iter().sum::<usize>() as f64 / ps.len() as f64
                };
                k
            };
            layers[l].sort_by(|&a, &b| key(a).total_cmp(&key(b)));
        }
    }
    layers
}

/// Draws `g`; `states` gives each label's last state (`success`, `failure`, `fresh`).
pub fn svg(g: &Graph, states: &BTreeMap<String, String>) -> String {
    let layers = layout(g);
    #[allow(clippy::cast_precision_loss)]
    let width_of = |v: usize| g.nodes[v].chars().count() as f64 * CHAR_W + 20.0;
    let row_w = |l: &Vec<usize>| {
        l.iter().map(|&v| width_of(v)).sum::<f64>() + NODE_GAP * l.len().saturating_sub(1) as f64
    };
    let total_w = layers.iter().map(row_w).fold(0.0, f64::max) + 2.0 * MARGIN;
    #[allow(clippy::cast_precision_loss)]
    let total_h = layers.len() as f64 * (NODE_H + LAYER_GAP) - LAYER_GAP + 2.0 * MARGIN;
    let mut at: Vec<(f64, f64, f64)> = vec![(0.0, 0.0, 0.0); g.nodes.len()];
    for (li, l) in layers.iter().enumerate() {
        let mut x = (total_w - row_w(l)) / 2.0;
        #[allow(clippy::cast_precision_loss)]
        let y = MARGIN + li as f64 * (NODE_H + LAYER_GAP);
        for &v in l {
            at[v] = (x, y, width_of(v));
            x += width_of(v) + NODE_GAP;
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="depgraph" role="img" aria-label="Job dependency graph" width="{total_w:.0}" height="{:.0}" viewBox="0 0 {total_w:.0} {:.0}">"#,
        total_h.max(1.0),
        total_h.max(1.0)
    );
    s.push_str(STYLE);
    s.push_str(r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="head"/></marker></defs>"#);
    for &(a, b) in &g.edges {
        let (ax, ay, aw) = at[a];
        let (bx, by, bw) = at[b];
        let (x1, y1, x2, y2) = (ax + aw / 2.0, ay + NODE_H, bx + bw / 2.0, by);
        let my = (y1 + y2) / 2.0;
        let _ = write!(
            s,
            r#"<path class="edge" d="M{x1:.1},{y1:.1} C{x1:.1},{my:.1} {x2:.1},{my:.1} {x2:.1},{y2:.1}" marker-end="url(#arrow)"/>"#
        );
    }
    for (v, name) in g.nodes.iter().enumerate() {
        let (x, y, w) = at[v];
        let state = states.get(name).map_or("fresh", String::as_str);
        let label = esc(name);
        let _ = write!(
            s,
            r#"<a href="/ui/job?name={}"><g class="node {}"><title>{label}: {}</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{NODE_H}" rx="6"/><text x="{:.1}" y="{:.1}">{label}</text></g></a>"#,
            esc(&enc(name)),
            state_class(state),
            esc(state),
            x + w / 2.0,
            y + NODE_H / 2.0 + 4.0,
        );
    }
    s.push_str("</svg>");
    s
}

fn esc(s: &str) -> String {
    html! { (s) }.into_string()
}

fn state_class(state: &str) -> &'static str {
    match state {
        "success" => "success",
        "failure" => "failure",
        _ => "fresh",
    }
}

const STYLE: &str =
    "<style>.depgraph text{font:12px system-ui,sans-serif;text-anchor:middle;fill:currentColor}\
.depgraph rect{fill:transparent;stroke:currentColor;stroke-width:1.5}\
.depgraph .success rect{stroke:#2e9e4f;fill:rgba(46,158,79,.15)}\
.depgraph .failure rect{stroke:#d33c3c;fill:rgba(211,60,60,.15)}\
.depgraph .edge{fill:none;stroke:currentColor;stroke-opacity:.6}\
.depgraph .head{fill:currentColor;fill-opacity:.6}\
.depgraph a:focus rect{stroke-width:3}</style>";

/// The graph from the API's `/graph/dot` and `/graph/csv` answers.
async fn current(core: &Arc<Core>) -> (Graph, BTreeMap<String, String>) {
    let (_, dot) = read(views::dot(core)).await;
    let (_, csv) = read(views::csv(core)).await;
    let states = csv
        .lines()
        .filter_map(|l| l.strip_prefix("node,"))
        .filter_map(|l| {
            let mut parts = l.rsplitn(3, ',');
            let _state = parts.next()?;
            let last = parts.next()?;
            Some((parts.next()?.to_owned(), last.to_owned()))
        })
        .collect();
    (parse_dot(&dot), states)
}

/// The SVG for embedding in a page.
pub async fn inline_svg(core: &Arc<Core>) -> Markup {
    let (g, states) = current(core).await;
    if g.nodes.is_empty() {
        return html! { p class="muted" { "No jobs yet." } };
    }
    if g.nodes.len() > MAX_NODES {
        return html! { p { (g.nodes.len()) " jobs: too many to draw; see the DOT." } };
    }
    html! { div class="graph" { (PreEscaped(svg(&g, &states))) } }
}

/// `GET /ui/graph.svg`.
pub async fn svg_response(core: &Arc<Core>) -> Response<Body> {
    let (g, states) = current(core).await;
    typed(200, svg(&g, &states), "image/svg+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dot_and_draws_layers() {
        let dot = "digraph G {\n  1 [ label = \"a\" ];\n  2 [ label = \"b \\\"x\\\"\" ];\n  3 [ label = \"c\" ];\n  1 -> 2;\n  2 -> 3;\n  1 -> 3;\n}\n";
        let g = parse_dot(dot);
        assert_eq!(g.nodes, vec!["a", "b \"x\"", "c"]);
        assert_eq!(g.edges, vec![(0, 1), (1, 2), (0, 2)]);
        assert_eq!(layout(&g), vec![vec![0], vec![1], vec![2]]);
        let s = svg(&g, &BTreeMap::from([("a".into(), "failure".into())]));
        assert_eq!(s.matches("<rect").count(), 3);
        assert_eq!(s.matches("class=\"edge\"").count(), 3);
        assert!(s.contains("node failure") && s.contains("b &quot;x&quot;"));
    }
}
