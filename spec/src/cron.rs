//! Checking `#[scheduled("…")]` cron expressions with `saffron`, the parser behind Cloudflare's
//! Cron Triggers, so what compiles is what the platform accepts. A bad field is reported with
//! the expression drawn and that field underlined (as route patterns are, see [`crate::pattern`]).

use std::ops::Range;

use crate::pattern::PatternError;

/// The five fields, in order, with what each accepts.
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31, `L` (last day), `W` (nearest weekday, `15W`, `LW`)"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "1-7 or SUN-SAT (1 = SUN), `L` (`5L`: last Thursday), `#` (`5#2`: second Thursday)"),
];

/// The syntax every field shares.
pub const SYNTAX: &str = "each field is `*`, a value, a range `a-b`, a list `a,b`, or a step `*/n` / `a-b/n`";

fn parses(expr: &str) -> bool {
    expr.parse::<saffron::Cron>().is_ok()
}

/// The fields of `cron` with their byte ranges.
fn fields(cron: &str) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in cron.char_indices().chain(std::iter::once((cron.len(), ' '))) {
        match (ch.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((&cron[s..i], s..i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// Checks `cron` as Cloudflare would; on failure, says which field is wrong and what it accepts.
///
/// # Errors
/// The field at fault (or the whole expression) and what it should be.
pub fn validate(cron: &str) -> Result<(), PatternError> {
    let fs = fields(cron);
    let whole = 0..cron.len();
    if fs.len() != 5 {
        return Err(PatternError {
            range: whole,
            message: format!(
                "a cron expression has 5 fields, `minute hour day-of-month month day-of-week` (e.g. \"0 2 * * SUN\"), this one has {}",
                fs.len()
            ),
        });
    }
    let canonical = fs.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" ");
    if canonical != cron {
        return Err(PatternError {
            range: whole,
            message: format!(
                "separate the fields by single spaces, with none around: write \"{canonical}\" (the platform reports the cron exactly as written in wrangler.toml, and handlers are found by that string)"
            ),
        });
    }
    if parses(cron) {
        return Ok(());
    }
    for (i, (text, range)) in fs.iter().enumerate() {
        let probe: Vec<&str> = (0..5).map(|k| if k == i { *text } else { "*" }).collect();
        if !parses(&probe.join(" ")) {
            let (name, accepts) = FIELDS[i];
            return Err(PatternError {
                range: range.clone(),
                message: format!("`{text}` is not a valid {name} field: it takes {accepts}; {SYNTAX}"),
            });
        }
    }
    Err(PatternError {
        range: whole,
        message: format!(
            "Cloudflare's cron parser rejects this combination of fields (each alone is valid); fields are `minute hour day-of-month month day-of-week`, {SYNTAX}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_cloudflare_syntax() {
        for ok in [
            "0 2 * * SUN",
            "0 2 * * 1",
            "*/5 * * * *",
            "0 9-17/2 * * MON-FRI",
            "0 0 L * *",
            "0 0 15W * *",
            "0 0 * * 5L",
            "0 0 * * 5#2",
            "30 4 1,15 JAN,JUL *",
        ] {
            assert!(validate(ok).is_ok(), "{ok}: {:?}", validate(ok));
        }
    }

    #[test]
    fn underlines_the_bad_field() {
        let e = validate("0 25 * * *").unwrap_err();
        assert_eq!(e.range, 2..4);
        assert!(e.message.contains("hour field"), "{}", e.message);
        let e = validate("0 2 * * FUNDAY").unwrap_err();
        assert_eq!(e.range, 8..14);
        assert!(e.message.contains("day-of-week") && e.message.contains("SUN-SAT"), "{}", e.message);
        let e = validate("61 2 * * *").unwrap_err();
        assert_eq!(e.range, 0..2);
        let e = validate("0 2 * 13 *").unwrap_err();
        assert!(e.message.contains("month field"), "{}", e.message);
        assert_eq!(e.render("0 2 * 13 *"), format!("{}\n  \"0 2 * 13 *\"\n         ^^", e.message));
    }

    #[test]
    fn wants_single_spaces() {
        let e = validate(" 0  2 * * SUN").unwrap_err();
        assert!(e.message.contains("\"0 2 * * SUN\""), "{}", e.message);
    }

    #[test]
    fn counts_fields() {
        for bad in ["", "0 2 * *", "0 2 * * * 2026", "@weekly"] {
            let e = validate(bad).unwrap_err();
            assert!(e.message.contains("5 fields"), "{bad}: {}", e.message);
            assert_eq!(e.range, 0..bad.len());
        }
    }
}
