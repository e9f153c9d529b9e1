//! What the compile benchmark measured: the build times of each crate ([`CrateFigures`]),
//! their medians over the rounds, and both crates side by side ([`CompileFigures`]), with the
//! summary the run logs.

use std::fmt;

/// Build times of one generated crate, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CrateFigures {
    /// Builds that compiled dependencies too (the warm-up on a cold cache), not counted.
    pub(crate) discarded_s: f64,
    /// `--release` rebuild of the crate alone after `cargo clean -p` (deps compiled).
    pub(crate) cold_release_s: f64,
    /// Dev-profile rebuild of the crate alone after `cargo clean -p` (deps compiled).
    pub(crate) cold_dev_s: f64,
    /// Dev-profile rebuild after one handler's body changed.
    pub(crate) incremental_dev_s: f64,
}

impl CrateFigures {
    /// The median of each figure over `rounds` (not empty); `discarded_s` is their sum.
    pub(super) fn median(rounds: &[CrateFigures]) -> CrateFigures {
        let med = |f: fn(&CrateFigures) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            match v.len() {
                0 => f64::NAN,
                n if n % 2 == 1 => v[n / 2],
                n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
            }
        };
        CrateFigures {
            discarded_s: rounds.iter().map(|r| r.discarded_s).sum(),
            cold_release_s: med(|r| r.cold_release_s),
            cold_dev_s: med(|r| r.cold_dev_s),
            incremental_dev_s: med(|r| r.incremental_dev_s),
        }
    }
}

/// The benchmark's result: both crates' figures for `routes` routes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CompileFigures {
    /// Routes in each crate.
    pub(crate) routes: usize,
    /// Rounds measured; each figure is their median.
    pub(crate) rounds: u32,
    /// The crate written with layers' macros.
    pub(crate) layers: CrateFigures,
    /// The same routes hand-written on workers-rs.
    pub(crate) hand: CrateFigures,
}

impl CompileFigures {
    /// Cold release compile time, layers ÷ hand-written (target ≤ 1.2).
    pub(crate) fn cold_release_ratio(&self) -> f64 {
        ratio(self.layers.cold_release_s, self.hand.cold_release_s)
    }

    /// Cold dev compile time, layers ÷ hand-written.
    pub(crate) fn cold_dev_ratio(&self) -> f64 {
        ratio(self.layers.cold_dev_s, self.hand.cold_dev_s)
    }

    /// Incremental dev rebuild, layers ÷ hand-written.
    pub(crate) fn incremental_ratio(&self) -> f64 {
        ratio(self.layers.incremental_dev_s, self.hand.incremental_dev_s)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

impl fmt::Display for CompileFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "compile time, {} routes (wasm32-unknown-unknown, dependencies compiled; median of {} round(s)):",
            self.routes, self.rounds
        )?;
        writeln!(f, "| | layers | hand-written | ratio |")?;
        writeln!(f, "|---|---|---|---|")?;
        let rows = [
            ("cold release", self.layers.cold_release_s, self.hand.cold_release_s, self.cold_release_ratio()),
            ("cold dev", self.layers.cold_dev_s, self.hand.cold_dev_s, self.cold_dev_ratio()),
            (
                "incremental dev (one handler edited)",
                self.layers.incremental_dev_s,
                self.hand.incremental_dev_s,
                self.incremental_ratio(),
            ),
        ];
        for (name, l, h, r) in rows {
            writeln!(f, "| {name} | {l:.2} s | {h:.2} s | {r:.2} |")?;
        }
        write!(
            f,
            "(builds that also compiled dependencies, not counted: layers {:.1} s, hand-written {:.1} s)",
            self.layers.discarded_s, self.hand.discarded_s
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_medians_over_rounds() {
        let f = |c: f64, d: f64, i: f64| CrateFigures {
            discarded_s: 1.0,
            cold_release_s: c,
            cold_dev_s: d,
            incremental_dev_s: i,
        };
        let m = CrateFigures::median(&[f(3.0, 9.0, 1.0), f(1.0, 7.0, 5.0), f(2.0, 8.0, 3.0)]);
        assert_eq!(m, f(2.0, 8.0, 3.0).with_discarded(3.0));
        let even = CrateFigures::median(&[f(4.0, 1.0, 1.0), f(2.0, 3.0, 1.0)]);
        assert_eq!((even.cold_release_s, even.cold_dev_s, even.discarded_s), (3.0, 2.0, 2.0));
        assert_eq!(CrateFigures::median(&[f(5.0, 6.0, 7.0)]), f(5.0, 6.0, 7.0));
    }

    impl CrateFigures {
        fn with_discarded(self, discarded_s: f64) -> CrateFigures {
            CrateFigures { discarded_s, ..self }
        }
    }
}
