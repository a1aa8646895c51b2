//! Server-side tables: the `?q=&sort=&dir=&page=&per=` query, filtering, one page of rows,
//! sortable column headers, the search form and the pager. All plain links and GET forms,
//! so they work without JavaScript; htmx may load the same URLs.

use maud::{html, Markup};

/// Default rows per page.
pub const DEFAULT_PER_PAGE: usize = 50;
/// Most rows a page may ask for.
pub const MAX_PER_PAGE: usize = 500;

/// A table request parsed from the URL query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Case-insensitive search text (`q`), trimmed; empty for none.
    pub q: String,
    /// Sort column key (`sort`).
    pub sort: String,
    /// Descending (`dir=desc`).
    pub desc: bool,
    /// 1-based page number (`page`).
    pub page: usize,
    /// Rows per page (`per`, 1..=[`MAX_PER_PAGE`]).
    pub per: usize,
    /// Every other parameter, in order (filters such as `state=`).
    pub extra: Vec<(String, String)>,
    /// Rows per page when `per` is not given (left out of links).
    default_per: usize,
}

impl Query {
    /// Parses a raw query string (`None` or malformed parts give defaults).
    pub fn parse(raw: Option<&str>, default_sort: &str) -> Query {
        Query::parse_with(raw, default_sort, DEFAULT_PER_PAGE)
    }

    /// [`Query::parse`] with another default page size (e.g. to keep a live table small).
    pub fn parse_with(raw: Option<&str>, default_sort: &str, default_per: usize) -> Query {
        let default_per = default_per.clamp(1, MAX_PER_PAGE);
        let mut q = Query {
            q: String::new(),
            sort: default_sort.to_string(),
            desc: false,
            page: 1,
            per: default_per,
            extra: Vec::new(),
            default_per,
        };
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match &*k {
                "q" => q.q = v.trim().to_string(),
                "sort" if !v.is_empty() => q.sort = v.into_owned(),
                "dir" => q.desc = v == "desc",
                "page" => q.page = v.parse().unwrap_or(1).max(1),
                "per" => q.per = v.parse().unwrap_or(default_per).clamp(1, MAX_PER_PAGE),
                _ => q.extra.push((k.into_owned(), v.into_owned())),
            }
        }
        q
    }

    /// An extra parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether any of `fields` contains the search text (case-insensitive); true without one.
    pub fn matches(&self, fields: &[&str]) -> bool {
        if self.q.is_empty() {
            return true;
        }
        let needle = self.q.to_lowercase();
        fields.iter().any(|f| f.to_lowercase().contains(&needle))
    }

    /// `base?...` with this query's parameters, `overrides` replacing same-named ones.
    pub fn href(&self, base: &str, overrides: &[(&str, &str)]) -> String {
        let page = self.page.to_string();
        let per = self.per.to_string();
        let own: [(&str, &str); 5] = [
            ("q", &self.q),
            ("sort", &self.sort),
            ("dir", if self.desc { "desc" } else { "asc" }),
            ("page", &page),
            ("per", &per),
        ];
        let mut ser = form_urlencoded::Serializer::new(String::new());
        let extra = self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for (k, v) in own.into_iter().chain(extra) {
            let v = overrides
                .iter()
                .find(|(ok, _)| *ok == k)
                .map_or(v, |(_, ov)| *ov);
            let default_per = k == "per" && v == self.default_per.to_string();
            if !v.is_empty() && !default_per {
                ser.append_pair(k, v);
            }
        }
        for (k, v) in overrides {
            if !own.iter().any(|(o, _)| o == k) && self.get(k).is_none() && !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        format!("{base}?{}", ser.finish())
    }

    /// Sorts `rows` by `cmp` only as far as this page needs (a partial selection, then a sort
    /// of the rows up to the page's end) and cuts the page out: O(n) for the first pages of
    /// a large table instead of a full O(n log n) sort.
    pub fn sorted_page<T>(
        &self,
        mut rows: Vec<T>,
        mut cmp: impl FnMut(&T, &T) -> std::cmp::Ordering,
    ) -> PageOf<T> {
        let total = rows.len();
        let pages = total.div_ceil(self.per).max(1);
        let end = (self.page.min(pages) * self.per).min(total);
        if end > 0 && end < total {
            rows.select_nth_unstable_by(end - 1, &mut cmp);
            rows.truncate(end);
        }
        rows.sort_by(&mut cmp);
        let mut page = self.paginate(rows);
        page.total = total;
        page.pages = pages;
        page
    }

    /// Cuts one page out of already filtered and sorted `rows`.
    pub fn paginate<T>(&self, rows: Vec<T>) -> PageOf<T> {
        let total = rows.len();
        let pages = total.div_ceil(self.per).max(1);
        let page = self.page.min(pages);
        let rows = rows
            .into_iter()
            .skip((page - 1) * self.per)
            .take(self.per)
            .collect();
        PageOf {
            rows,
            total,
            page,
            pages,
        }
    }
}

/// One page of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOf<T> {
    /// The rows on this page.
    pub rows: Vec<T>,
    /// Rows matching the search, on all pages.
    pub total: usize,
    /// This page (1-based, clamped to `pages`).
    pub page: usize,
    /// Number of pages (at least 1).
    pub pages: usize,
}

/// A `<th>` whose link sorts by `key` (toggling direction when already sorted by it).
pub fn sort_header(q: &Query, base: &str, key: &str, label: &str) -> Markup {
    let active = q.sort == key;
    let dir = if active && !q.desc { "desc" } else { "asc" };
    let href = q.href(base, &[("sort", key), ("dir", dir), ("page", "1")]);
    let aria = active.then_some(if q.desc { "descending" } else { "ascending" });
    let arrow = match (active, q.desc) {
        (false, _) => "",
        (true, false) => " ▲",
        (true, true) => " ▼",
    };
    html! {
        th scope="col" aria-sort=[aria] { a href=(href) { (label) (arrow) } }
    }
}

/// The GET search form for a table at `base` (keeps sort and filters).
pub fn search_form(q: &Query, base: &str, label: &str) -> Markup {
    html! {
        form class="inline" method="get" action=(base) role="search" {
            label { (label) input type="search" name="q" value=(q.q); }
            input type="hidden" name="sort" value=(q.sort);
            input type="hidden" name="dir" value=(if q.desc { "desc" } else { "asc" });
            @for (k, v) in &q.extra {
                input type="hidden" name=(k) value=(v);
            }
            button type="submit" { "Search" }
        }
    }
}

/// "N rows · page x of y" with previous/next and nearby page links.
pub fn pager<T>(q: &Query, base: &str, page: &PageOf<T>) -> Markup {
    let lo = page.page.saturating_sub(3).max(1);
    let hi = (page.page + 3).min(page.pages);
    let link = |n: usize| q.href(base, &[("page", &n.to_string())]);
    html! {
        nav class="pager" aria-label="Pages" {
            span class="muted" { (page.total) " rows · page " (page.page) " of " (page.pages) }
            @if page.page > 1 { a href=(link(page.page - 1)) rel="prev" { "← Previous" } }
            @if lo > 1 { a href=(link(1)) { "1" } @if lo > 2 { span { "…" } } }
            @for n in lo..=hi {
                @if n == page.page { span class="current" aria-current="page" { (n) } }
                @else { a href=(link(n)) { (n) } }
            }
            @if hi < page.pages {
                @if hi + 1 < page.pages { span { "…" } }
                a href=(link(page.pages)) { (page.pages) }
            }
            @if page.page < page.pages { a href=(link(page.page + 1)) rel="next" { "Next →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rebuilds_queries() {
        let q = Query::parse(
            Some("q=+web+&sort=cpus&dir=desc&page=3&per=9999&state=RUNNING"),
            "id",
        );
        assert_eq!(q.q, "web");
        assert_eq!(
            (q.sort.as_str(), q.desc, q.page, q.per),
            ("cpus", true, 3, MAX_PER_PAGE)
        );
        assert_eq!(q.get("state"), Some("RUNNING"));
        let h = q.href("/ui/tasks", &[("page", "1"), ("state", "")]);
        assert_eq!(h, "/ui/tasks?q=web&sort=cpus&dir=desc&page=1&per=500");
        let d = Query::parse(Some("page=-1&per=x"), "id");
        assert_eq!(
            (d.page, d.per, d.sort.as_str()),
            (1, DEFAULT_PER_PAGE, "id")
        );
    }

    #[test]
    fn sorted_page_matches_a_full_sort() {
        let rows: Vec<u32> = (0..1000).map(|i| (i * 7919) % 1009).collect();
        let mut full = rows.clone();
        full.sort_unstable();
        for page in [1, 3, 20, 99] {
            let q = Query::parse_with(Some(&format!("page={page}")), "id", 30);
            let p = q.sorted_page(rows.clone(), |a, b| a.cmp(b));
            let want = q.paginate(full.clone());
            assert_eq!(p, want, "page {page}");
        }
        assert_eq!(
            Query::parse_with(None, "id", 25).href("/t", &[]),
            "/t?sort=id&dir=asc&page=1"
        );
    }

    #[test]
    fn paginates_and_clamps() {
        let q = Query::parse(Some("page=9&per=2"), "id");
        let p = q.paginate((0..5).collect::<Vec<_>>());
        assert_eq!((p.rows, p.total, p.page, p.pages), (vec![4], 5, 3, 3));
        assert!(q.matches(&["x"]));
        let s = Query::parse(Some("q=WeB"), "id");
        assert!(s.matches(&["a", "my-web-app"]) && !s.matches(&["db"]));
    }
}
