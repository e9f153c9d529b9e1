// Configured built-in verifiers: an `ApiKey` with its own header and secret, a `SignedToken`
// with its own purpose and source.
use layers_core::identity::{ApiKeyConfig, ApiKeyHeader, TokenConfig, TokenSource};
use layers_core::prelude::*;

struct IngestKeys;
impl ApiKeyConfig for IngestKeys {
    const HEADER: ApiKeyHeader = ApiKeyHeader::Bearer;
    const SECRET: &'static str = "INGEST_KEYS";
    const NAME: &'static str = "ApiKey<IngestKeys>";
}
type Ingest = ApiKey<IngestKeys>;

struct Download;
impl TokenConfig for Download {
    const SECRET: &'static str = "SIGNING_KEY";
    const PURPOSE: &'static str = "download";
    const SOURCE: TokenSource = TokenSource::Query("t");
}
type DownloadToken = SignedToken<Download>;

#[route(POST "/ingest", identity = Ingest, storage(D1))]
async fn ingest(key: Claims<'_, Ingest>, db: D1<'_>) -> Result<Response> {
    db.prepare("INSERT INTO events (source) VALUES (?1)").bind(&[&key.label]).run().await?;
    Ok(Response::ok("ingested")?)
}

#[route(GET "/download/*", identity = DownloadToken)]
async fn download(req: Request, token: Claims<'_, SignedToken<Download>>) -> Result<Response> {
    Ok(Response::ok(format!("{} for {}", req.rest().unwrap_or(""), token.payload))?)
}

app! { wrangler: "wrangler.toml", routes: [ingest, download] }

fn main() {}
