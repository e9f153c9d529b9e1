// `Queue<'_, Unchecked<T>>` is the explicit opt-out of the producer/consumer type check: here a
// deliberately undecodable (poison) message for a consumer of `Job`.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Job {
    id: u32,
}

#[route(POST "/jobs/raw", identity = ApiKey, storage(Queue = "JOBS"))]
async fn enqueue_raw(mut req: Request, _key: Claims<'_, ApiKey>, q: Queue<'_, Unchecked<String>>) -> Result<Response> {
    q.send(&Unchecked(req.text().await?)).await?;
    Ok(Response::empty()?.with_status(202))
}

#[queue("jobs")]
async fn jobs(batch: Batch<'_, Job>, _who: Claims<'_, System>) {
    batch.ack_all();
}

app! { wrangler: "queue-wrangler.toml", routes: [enqueue_raw], queues: [jobs] }

fn main() {}
