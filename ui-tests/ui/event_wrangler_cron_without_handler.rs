// A cron wrangler.toml triggers must have a handler (else its events would only be logged).
use layers_core::prelude::*;

#[queue("jobs")]
async fn jobs(_batch: Batch<'_, u32>, _who: Claims<'_, System>) {}

app! { wrangler: "events-wrangler.toml", routes: [], queues: [jobs] }

fn main() {}
