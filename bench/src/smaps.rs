//! Where a process's resident memory is: `/proc/<pid>/smaps` summed by kind of mapping
//! (its own binary, shared libraries, anonymous memory such as heap and stacks), as RSS and
//! PSS in KiB.

/// RSS and PSS (KiB) of one kind of mapping.
#[derive(Debug, Default, Clone, Copy)]
pub struct Part {
    /// Resident.
    pub rss: u64,
    /// Proportional (shared pages divided among their users).
    pub pss: u64,
}

/// A process's memory by kind of mapping.
#[derive(Debug, Default, Clone, Copy)]
pub struct Breakdown {
    /// The executable's own file (or the park program it execs while idle).
    pub binary: Part,
    /// `*.so*` files (libc, the loader, libgcc...).
    pub libraries: Part,
    /// Anonymous mappings: heap, thread stacks, the main stack, `.bss`.
    pub anonymous: Part,
    /// Everything else (vdso, other files).
    pub other: Part,
}

/// Whether the mapped file `path` is the park program of `exe`: a parked supervisor or
/// executor runs it from a memfd named after it (`/memfd:<exe>-park (deleted)`).
pub fn is_park(path: &str, exe: &str) -> bool {
    path.starts_with(&format!("/memfd:{exe}-park"))
}

/// Reads `/proc/<pid>/smaps`; `exe` is the end of the binary's path.
pub fn read(pid: u32, exe: &str) -> Breakdown {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut out = Breakdown::default();
    let mut current: Option<fn(&mut Breakdown) -> &mut Part> = None;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if first.contains('-') && !first.ends_with(':') {
            // A mapping header: address perms offset dev inode [path].
            let path = fields.nth(4).unwrap_or("");
            // A parked process's park program is still its own code.
            current = Some(if path.ends_with(exe) || is_park(path, exe) {
                |b| &mut b.binary
            } else if path.contains(".so") {
                |b| &mut b.libraries
            } else if path.is_empty() || path == "[heap]" || path == "[stack]" {
                |b| &mut b.anonymous
            } else {
                |b| &mut b.other
            });
            continue;
        }
        let value = fields
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if let Some(part) = current {
            match first {
                "Rss:" => part(&mut out).rss += value,
                "Pss:" => part(&mut out).pss += value,
                _ => {}
            }
        }
    }
    out
}

/// Markdown rows `| <who>: <kind> | rss | pss |` in MiB.
pub fn rows(who: &str, b: &Breakdown) -> String {
    let mib = |k: u64| k as f64 / 1024.0;
    let mut out = String::new();
    for (kind, p) in [
        ("binary", b.binary),
        ("shared libraries", b.libraries),
        ("anonymous (heap, stacks)", b.anonymous),
        ("other", b.other),
    ] {
        out.push_str(&format!(
            "| {who}: {kind} | {:.2} | {:.2} |\n",
            mib(p.rss),
            mib(p.pss)
        ));
    }
    out
}
