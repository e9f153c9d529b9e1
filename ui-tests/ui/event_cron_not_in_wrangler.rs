// Crons in code and `[triggers] crons` in wrangler.toml are the same set.
use layers_core::prelude::*;

#[scheduled("0 3 * * *")]
async fn nightly(_who: Claims<'_, System>) {}

#[queue("jobs")]
async fn jobs(_batch: Batch<'_, u32>, _who: Claims<'_, System>) {}

app! { wrangler: "events-wrangler.toml", routes: [], crons: [nightly], queues: [jobs] }

fn main() {}
