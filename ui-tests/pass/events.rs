// A cron, a queue consumer and a producer route, all checked against events-wrangler.toml.
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Job {
    id: u32,
}

#[scheduled("0 2 * * SUN", storage(D1), vars(SITE_NAME))]
async fn weekly(who: Claims<'_, System>, db: D1<'_>, _vars: Vars<'_>) -> Result<()> {
    let _ = (&who.source, who.time_ms, who.event);
    db.prepare("SELECT 1").run().await?;
    Ok(())
}

#[queue("jobs", storage(D1, Queue = "JOBS"))]
async fn jobs(batch: Batch<'_, Job>, _who: Claims<'_, System>, _db: D1<'_>, again: Queue<'_, Job>) {
    for m in &batch {
        if m.body().id == 0 {
            m.retry_after(30);
        } else if m.body().id == 1 {
            let _ = again.send(m.body()).await;
            m.ack();
        } else {
            m.retry();
        }
    }
}

#[route(POST "/jobs", identity = ApiKey, storage(Queue = "JOBS"))]
async fn enqueue(_key: Claims<'_, ApiKey>, q: Queue<'_, Job>) -> Result<Response> {
    q.send(&Job { id: 7 }).await?;
    q.send_batch(&[Job { id: 8 }, Job { id: 9 }]).await?;
    Ok(Response::empty()?.with_status(202))
}

app! { wrangler: "events-wrangler.toml", routes: [enqueue], crons: [weekly], queues: [jobs] }

fn main() {}
