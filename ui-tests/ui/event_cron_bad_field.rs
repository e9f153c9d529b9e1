// The cron is checked by Cloudflare's own parser at compile time; the bad field is underlined.
use layers_core::prelude::*;

#[scheduled("0 25 * * SUN", storage(D1))]
async fn nightly(_who: Claims<'_, System>, _db: D1<'_>) -> Result<()> {
    Ok(())
}

#[scheduled("0 2 * * FUNDAY")]
async fn weekly(_who: Claims<'_, System>) {}

#[scheduled("0 2 * *")]
async fn four_fields(_who: Claims<'_, System>) {}

fn main() {}
