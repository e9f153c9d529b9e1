// A queue producer binding is cross-checked against `[[queues.producers]]`.
use layers_core::prelude::*;

#[route(POST "/jobs", identity = Public, storage(Queue = "OTHER"))]
async fn enqueue(_who: Claims<'_, Public>, q: Queue<'_, u32>) -> Result<Response> {
    q.send(&1).await?;
    Ok(Response::ok("queued")?)
}

#[scheduled("0 2 * * SUN")]
async fn weekly(_who: Claims<'_, System>) {}

#[queue("jobs")]
async fn jobs(_batch: Batch<'_, u32>, _who: Claims<'_, System>) {}

app! { wrangler: "events-wrangler.toml", routes: [enqueue], crons: [weekly], queues: [jobs] }

fn main() {}
