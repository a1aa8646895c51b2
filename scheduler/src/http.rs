//! The HTTP side: one pooled keep-alive client (hyper) for the calls and for opening the
//! SUBSCRIBE stream, with basic credentials, `Mesos-Stream-Id` and timeouts.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::Credential;
use crate::detector::MasterAddr;
use crate::error::Error;

/// The scheduler endpoint.
pub(crate) const PATH: &str = "/api/v1/scheduler";
/// The header naming a subscription's stream.
pub(crate) const STREAM_ID: &str = "Mesos-Stream-Id";
/// Largest call response body read (Mesos answers calls with an empty body or an error text).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The HTTP client of one driver.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: Client<HttpConnector, Full<Bytes>>,
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl Transport {
    /// A client with `timeout` for connecting and for each answer.
    pub(crate) fn new(credential: Option<&Credential>, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        let authorization = credential.and_then(|c| {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.principal, c.secret));
            let mut value = HeaderValue::from_str(&format!("Basic {token}")).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Self {
            client,
            authorization,
            timeout,
        }
    }

    fn request(
        &self,
        master: &MasterAddr,
        stream_id: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Request<Full<Bytes>>, Error> {
        let mut req = Request::post(format!("http://{master}{PATH}"))
            .header(HOST, master.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json");
        if let Some(id) = stream_id {
            req = req.header(STREAM_ID, id);
        }
        if let Some(auth) = &self.authorization {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        req.body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::InvalidMaster {
                master: master.to_string(),
                reason: e.to_string(),
            })
    }

    async fn send(
        &self,
        master: &MasterAddr,
        req: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, Error> {
        match tokio::time::timeout(self.timeout, self.client.request(req)).await {
            Err(_) => Err(Error::Timeout {
                master: master.to_string(),
                timeout: self.timeout,
            }),
            Ok(Err(e)) => Err(Error::Http {
                master: master.to_string(),
                source: Box::new(e),
            }),
            Ok(Ok(resp)) => Ok(resp),
        }
    }

    /// POSTs a call and reads the (small) answer.
    pub(crate) async fn post_call(
        &self,
        master: &MasterAddr,
        stream_id: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), Error> {
        let req = self.request(master, Some(stream_id), body)?;
        let resp = self.send(master, req).await?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES).collect();
        let body = match tokio::time::timeout(self.timeout, body).await {
            Err(_) => {
                return Err(Error::Timeout {
                    master: master.to_string(),
                    timeout: self.timeout,
                })
            }
            Ok(Err(e)) => {
                return Err(Error::Http {
                    master: master.to_string(),
                    source: e,
                })
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        Ok((status, body))
    }

    /// POSTs SUBSCRIBE and returns the response once its head arrived.
    pub(crate) async fn open_stream(
        &self,
        master: &MasterAddr,
        body: Vec<u8>,
    ) -> Result<Response<Incoming>, Error> {
        let req = self.request(master, None, body)?;
        self.send(master, req).await
    }

    /// Reads a short error body (for messages), bounded in size and time.
    pub(crate) async fn error_text(&self, resp: Response<Incoming>) -> String {
        let body = Limited::new(resp.into_body(), 4096).collect();
        match tokio::time::timeout(self.timeout, body).await {
            Ok(Ok(b)) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
            _ => String::new(),
        }
    }
}
