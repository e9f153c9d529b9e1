// A cron handler is a producer too: sending `u64` to a queue whose consumer decodes `Job` is
// refused like it is for a route.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Job {
    id: u32,
}

#[scheduled("0 2 * * SUN", storage(Queue = "JOBS"))]
async fn nightly(_who: Claims<'_, System>, q: Queue<'_, u64>) -> Result<()> {
    q.send(&7).await?;
    Ok(())
}

#[queue("jobs")]
async fn jobs(batch: Batch<'_, Job>, _who: Claims<'_, System>) {
    batch.ack_all();
}

app! { wrangler: "queue-cron-wrangler.toml", routes: [], crons: [nightly], queues: [jobs] }

fn main() {}
