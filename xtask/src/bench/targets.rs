//! The targets `BENCHMARKS.md` judges (issue 6): a figure of this run against its bound, met
//! or not, in the order of the report's sections. A smoke run judges none.

use super::load::median;
use super::workers::wi;
use super::Figures;
use crate::cold::ColdStart;

/// One target: what is required, the figure this run measured, whether it is met.
pub(super) type Target = (String, String, bool);

/// The targets of a full run whose figures are `fig`.
pub(super) fn judge(fig: &Figures) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    if let Some((l, m)) = fig.router_ns {
        targets.push(("router time ÷ matchit ≤ 1.0".into(), format!("{:.2}", l / m), l / m <= 1.0));
    }
    if let Some((la, _, n)) = fig.allocs {
        targets.push(("router allocations per lookup = 0".into(), format!("{la} in {n} lookups"), la == 0));
    }
    if !fig.load.is_empty() {
        wrangler_targets(fig, &mut targets);
    }
    if !fig.plain.is_empty() {
        plain_targets(fig, &mut targets);
    }
    if !fig.cold.is_empty() {
        cold_targets(fig, &mut targets);
    }
    if !fig.wasm.is_empty() {
        if let Some((_, gz)) = fig.app_wasm {
            targets.push(("reference app ≤ 1 MB gzipped".into(), format!("{gz} B"), gz <= 1_000_000));
        }
        if let [(_, _, lg), (_, _, hg), ..] = fig.wasm.as_slice() {
            #[allow(clippy::cast_precision_loss)]
            let r = *lg as f64 / *hg as f64;
            targets.push(("wasm gzip size, layers ÷ hand-written ≤ 1.1".into(), format!("{r:.2}"), r <= 1.1));
        }
    }
    if let Some(c) = &fig.compile {
        let r = c.cold_release_ratio();
        targets.push(("compile time (cold release), layers ÷ hand-written ≤ 1.2".into(), format!("{r:.2}"), r <= 1.2));
        targets.push((
            "incremental rebuild ≤ 3 s".into(),
            format!("{:.2} s", c.layers.incremental_dev_s),
            c.layers.incremental_dev_s <= 3.0,
        ));
    }
    targets
}

/// The `wrangler dev` targets (full runs only: a smoke run loads one route).
fn wrangler_targets(fig: &Figures, targets: &mut Vec<Target>) {
    let (layers, quiet, hand, hono) = (wi("layers"), wi("layers-quiet"), wi("hand"), wi("hono"));
    let r = |w: usize, route: usize, base: usize| fig.load[w][route].rps / fig.load[base][route].rps;
    let public = r(layers, 0, hand);
    targets.push((
        "wrangler dev: public req/s, layers ÷ hand-written ≥ 0.97".into(),
        format!("{public:.3}"),
        public >= 0.97,
    ));
    let q = r(quiet, 0, hand);
    targets.push(("… the same, layers with LAYERS_LOG=errors".into(), format!("{q:.3}"), q >= 0.97));
    let wide = r(layers, 0, wi("hand-log"));
    targets.push((
        "… layers (default: one event per request) ÷ hand-written writing one JSON line per request".into(),
        format!("{wide:.3}"),
        wide >= 0.97,
    ));
    let access = r(layers, 1, hono);
    targets.push(("wrangler dev: Access-JWT req/s, layers ÷ Hono ≥ 1.0".into(), format!("{access:.3}"), access >= 1.0));
    let q = r(quiet, 1, hono);
    targets.push(("… the same, layers with LAYERS_LOG=errors".into(), format!("{q:.3}"), q >= 1.0));
    let cold = r(layers, 2, hono);
    targets.push((
        "… the same, layers' verified-token cache off (every token verified in full)".into(),
        format!("{cold:.3}"),
        cold >= 1.0,
    ));
}

/// The plain-workerd targets: the same Workers without wrangler's dev machinery.
fn plain_targets(fig: &Figures, targets: &mut Vec<Target>) {
    let (layers, quiet, hand, hono) = (wi("layers"), wi("layers-quiet"), wi("hand"), wi("hono"));
    let r = |w: usize, route: usize, base: usize| fig.plain[w][route].load.rps / fig.plain[base][route].load.rps;
    let wide = r(layers, 0, wi("hand-log"));
    targets.push((
        "plain workerd: public req/s, layers (default logs: one event per request) ÷ hand-written writing one comparable JSON line per request ≥ 0.97".into(),
        format!("{wide:.3}"),
        wide >= 0.97,
    ));
    let cpu = |w: usize, route: usize| fig.plain[w][route].cpu_us;
    let wide_cpu = cpu(wi("hand-log"), 0) / cpu(layers, 0);
    targets.push((
        "… the same as workerd CPU per request, hand-written with its line ÷ layers (reported)".into(),
        format!("{wide_cpu:.3}"),
        true,
    ));
    for (label, w) in [("layers", layers), ("layers with LAYERS_LOG=errors", quiet)] {
        let x = r(w, 0, hand);
        targets.push((
            format!("plain workerd: public req/s, {label} ÷ hand-written ≥ 0.97"),
            format!("{x:.3}"),
            x >= 0.97,
        ));
        let x = r(w, 1, hono);
        targets.push((format!("plain workerd: Access-JWT req/s, {label} ÷ Hono ≥ 1.0"), format!("{x:.3}"), x >= 1.0));
        let x = r(w, 2, hono);
        targets.push((
            format!("… the same, {label}, verified-token cache off (every token verified in full)"),
            format!("{x:.3}"),
            x >= 1.0,
        ));
        let x = cpu(hono, 2) / cpu(w, 2);
        targets.push((
            format!("… the same as workerd CPU per request, Hono ÷ {label} (≥ 1.0: layers spends less)"),
            format!("{x:.3}"),
            x >= 1.0,
        ));
    }
}

/// The cold-start targets: layers ÷ hand-written (as they ship, and each with and without a
/// log line), and the reference app's figure reported.
fn cold_targets(fig: &Figures, targets: &mut Vec<Target>) {
    use super::cold_label::{APP, HAND, HAND_LOG, LAYERS, LAYERS_QUIET};
    let med = |runs: &[ColdStart], f: fn(&ColdStart) -> f64| f(&median(runs, f));
    let find = |k: &str| fig.cold.iter().find(|(l, _)| l == k).map(|(_, r)| r.as_slice());
    let mut ratio = |a: &str, b: &str, what: &str, judged: bool| {
        if let (Some(a), Some(b)) = (find(a), find(b)) {
            let r = med(a, |c| c.total_ms()) / med(b, |c| c.total_ms());
            targets.push((what.into(), format!("{r:.3}"), !judged || r <= 1.1));
        }
    };
    ratio(LAYERS, HAND, "cold start (total), layers (default logs) ÷ hand-written (no log line) ≤ 1.1", true);
    ratio(
        LAYERS,
        HAND_LOG,
        "… layers (default logs) ÷ hand-written writing one JSON line per request (both log on the first request) ≤ 1.1",
        true,
    );
    ratio(LAYERS_QUIET, HAND, "… layers with LAYERS_LOG=errors ÷ hand-written (neither logs) ≤ 1.1", true);
    ratio(APP, HAND, "… reference app ÷ hand-written (reported, not a target)", false);
}
