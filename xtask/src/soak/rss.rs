//! The resident memory (`VmRSS`) of the workerd processes in a process group, by role: the
//! one that runs the Worker and wrangler's proxy ([`Rss`]). The soak samples it; the bench
//! reads it around its load runs.

/// Resident memory (`VmRSS`, KiB) of the two workerd processes `wrangler dev` runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rss {
    /// The workerd that runs the Worker (and its local D1, KV, R2): started with an inspector.
    pub(crate) app: u64,
    /// wrangler's own entry workerd: its proxy and inspector-proxy Workers, no app code.
    pub(crate) proxy: u64,
}

/// Reads one figure of an [`Rss`] sample.
type RssOf = fn(&Rss) -> u64;

impl Rss {
    /// Each figure, with how the verdict names it.
    pub(super) const ROLES: [(&'static str, RssOf); 3] = [
        ("app workerd (the Worker, local D1/KV/R2)", |r| r.app),
        ("wrangler's proxy workerd", |r| r.proxy),
        ("both workerd", Rss::total),
    ];

    pub(crate) fn total(&self) -> u64 {
        self.app + self.proxy
    }
}

/// Total `VmRSS` (KiB) of the `workerd` processes in process group `pgid`, if any.
pub(crate) fn workerd_rss_kb(pgid: u32) -> Option<u64> {
    workerd_rss(pgid).map(|r| r.total())
}

/// `VmRSS` (KiB) of the `workerd` processes in process group `pgid`, by role: the one started
/// with `--inspector-addr` runs the Worker; the others are wrangler's proxy.
pub(crate) fn workerd_rss(pgid: u32) -> Option<Rss> {
    let pgid = pgid.to_string();
    let mut rss: Option<Rss> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let pgrp = stat[close + 1..].split_whitespace().nth(2);
        if !comm.starts_with("workerd") || pgrp != Some(pgid.as_str()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok());
        let Some(kb) = kb else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let runs_app = cmdline.split(|b| *b == 0).any(|arg| arg.starts_with(b"--inspector-addr"));
        let r = rss.get_or_insert_with(Rss::default);
        if runs_app {
            r.app += kb;
        } else {
            r.proxy += kb;
        }
    }
    rss
}
