// Promise 5: a cron handler gets a Vectorize index only when its attribute declares it.
use layers_core::prelude::*;

#[scheduled("0 2 * * SUN", storage(D1))]
async fn reembed(_who: Claims<'_, System>, _db: D1<'_>, index: Vectorize<'_>) -> Result<()> {
    index.describe().await?;
    Ok(())
}

fn main() {}
