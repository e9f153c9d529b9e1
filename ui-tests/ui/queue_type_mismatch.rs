// A route sends `String` through binding `JOBS`, which wrangler.toml maps to queue `jobs`, whose
// `#[queue]` consumer decodes `Job`: every message would fail to decode and be dead-lettered.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Job {
    id: u32,
}

#[route(POST "/jobs", identity = ApiKey, storage(Queue = "JOBS"))]
async fn enqueue(_key: Claims<'_, ApiKey>, q: Queue<'_, String>) -> Result<Response> {
    q.send(&"7".to_owned()).await?;
    Ok(Response::empty()?.with_status(202))
}

#[queue("jobs")]
async fn jobs(batch: Batch<'_, Job>, _who: Claims<'_, System>) {
    batch.ack_all();
}

app! { wrangler: "queue-wrangler.toml", routes: [enqueue], queues: [jobs] }

fn main() {}
