//! The page frame shared by the three products: header with product name and nav links,
//! skip link, main region, footer.

use maud::{html, Markup, DOCTYPE};

use crate::assets::{HTMX_PATH, STYLESHEET_PATH};

/// Which server renders the page (its name in the header and the title).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// `mesos-master`.
    Mesos,
    /// `marathon`.
    Marathon,
    /// `chronos`.
    Chronos,
}

impl Product {
    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Product::Mesos => "Mesos",
            Product::Marathon => "Marathon",
            Product::Chronos => "Chronos",
        }
    }
}

/// The header's navigation: `(label, href)` links and the href of the current section.
#[derive(Debug, Clone, Copy)]
pub struct Nav<'a> {
    /// Links in order.
    pub links: &'a [(&'a str, &'a str)],
    /// The href (from `links`) marked `aria-current="page"`.
    pub current: &'a str,
}

/// A whole HTML page: `<title>{title} · {product}</title>`, the shared header and `body`
/// inside `<main>`. The stylesheet and htmx come from `/ui/assets/`.
pub fn layout(product: Product, title: &str, nav: Nav<'_>, body: Markup) -> Markup {
    let home = nav.links.first().map_or("/", |(_, h)| *h);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (product.name()) }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                script src=(HTMX_PATH) defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href=(home) { (product.name()) " " span { "· Meseta" } }
                    nav class="main" aria-label="Main" {
                        ul {
                            @for (label, href) in nav.links {
                                li {
                                    @if *href == nav.current {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" { (body) }
                footer class="bottom" { "Meseta · " (product.name()) " · server-rendered, works without JavaScript" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_marks_current_link() {
        let nav = Nav {
            links: &[("Overview", "/"), ("Agents", "/ui/agents")],
            current: "/ui/agents",
        };
        let page = layout(Product::Mesos, "Agents", nav, html! { p { "x" } }).into_string();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(r#"<a href="/ui/agents" aria-current="page">Agents</a>"#));
        assert!(page.contains("<title>Agents · Mesos</title>"));
    }
}
