// A plain wrangler.json: bindings and queues are read from it as from wrangler.toml.
use layers_core::prelude::*;

#[route(POST "/jobs", identity = ApiKey, storage(D1, Queue = "JOBS"))]
async fn enqueue(_key: Claims<'_, ApiKey>, _db: D1<'_>, q: Queue<'_, u32>) -> Result<Response> {
    q.send(&7).await?;
    Ok(Response::empty()?.with_status(202))
}

#[queue("jobs")]
async fn jobs(batch: Batch<'_, u32>, _who: Claims<'_, System>) {
    for m in &batch {
        m.ack();
    }
}

app! { wrangler: "wrangler-formats/wrangler.json", routes: [enqueue], queues: [jobs] }

fn main() {}
