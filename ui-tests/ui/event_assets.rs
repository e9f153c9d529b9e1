// Static assets answer the request being served; a queue batch serves none.
use layers_core::prelude::*;

#[queue("jobs", storage(Assets))]
async fn jobs(_batch: Batch<'_, u32>, _who: Claims<'_, System>) {}

fn main() {}
