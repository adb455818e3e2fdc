//! AWS SigV4 signing for HealthLake's FHIR REST API (or any FHIR server behind API Gateway):
//! the [`RequestSigner`] the binary's REST sink calls for every request.

use async_trait::async_trait;
use paperchart_core::sink::{RequestSigner, SinkError};

/// The region of a HealthLake endpoint URL (`https://healthlake.<region>.amazonaws.com/...`).
pub fn healthlake_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let mut parts = host.split('.');
    (parts.next()? == "healthlake").then(|| parts.next().map(str::to_string)).flatten()
}

/// Credentials are fetched again this long before they expire.
const REFRESH_BEFORE: std::time::Duration = std::time::Duration::from_secs(300);

/// AWS SigV4 signing of each request (HealthLake's data plane).
///
/// The SDK's clients cache credentials in their identity cache; a provider called directly does
/// not (on ECS every call is an HTTP request to the task's credentials endpoint), so the signer
/// keeps the credentials it was given until five minutes before they expire.
pub struct SigV4 {
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<aws_credential_types::Credentials>>,
    pub region: String,
    pub service: String,
}

impl SigV4 {
    /// Signing with the SDK's default credential chain, in the region of a HealthLake endpoint
    /// (else the SDK's region).
    pub fn for_endpoint(sdk: &aws_config::SdkConfig, url: &str, service: &str) -> Result<SigV4, String> {
        let credentials =
            sdk.credentials_provider().ok_or("SigV4 signing needs AWS credentials, and none were found")?;
        let region = healthlake_region(url)
            .or_else(|| sdk.region().map(|r| r.to_string()))
            .ok_or("no AWS region for SigV4 (set aws.region)")?;
        Ok(SigV4::new(credentials, region, service))
    }

    pub fn new(
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> SigV4 {
        SigV4 { credentials, cached: Default::default(), region: region.into(), service: service.into() }
    }

    /// The cached credentials, fetched again when missing or about to expire. One fetch at a
    /// time: requests signed meanwhile wait for it rather than each starting their own.
    async fn credentials(&self) -> Result<aws_credential_types::Credentials, SinkError> {
        use aws_credential_types::provider::ProvideCredentials;
        let mut cached = self.cached.lock().await;
        let fresh = |c: &aws_credential_types::Credentials| {
            c.expiry().is_none_or(|at| at > std::time::SystemTime::now() + REFRESH_BEFORE)
        };
        if let Some(c) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        match self.credentials.provide_credentials().await {
            Ok(c) => {
                *cached = Some(c.clone());
                Ok(c)
            }
            // A refresh that fails while the credentials held have not yet expired: they still
            // sign (the next request tries the refresh again).
            Err(_)
                if cached.as_ref().is_some_and(|c| c.expiry().is_some_and(|at| at > std::time::SystemTime::now())) =>
            {
                Ok(cached.clone().expect("checked"))
            }
            Err(e) => {
                Err(SinkError::Transient { status: None, detail: format!("AWS credentials: {e}"), retry_after: None })
            }
        }
    }
}

#[async_trait]
impl RequestSigner for SigV4 {
    /// The headers to add to a request: `authorization`, `x-amz-date`, and the session token.
    async fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, SinkError> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let fail = |what: &str, e: &dyn std::fmt::Display| SinkError::Rejected {
            status: 0,
            detail: format!("SigV4 {what}: {e}"),
        };
        let identity = self.credentials().await?.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| fail("parameters", &e))?
            .into();
        let signable = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body))
            .map_err(|e| fail("request", &e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| fail("signature", &e))?.into_parts();
        Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;

    #[tokio::test]
    async fn sigv4_headers_name_the_service_and_region() {
        let signer = SigV4::new(
            SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "test",
            )),
            "us-east-1",
            "healthlake",
        );
        let headers = signer
            .sign(
                "POST",
                "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/",
                &[("content-type", "application/fhir+json")],
                b"{}",
            )
            .await
            .unwrap();
        let get = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {k} in {headers:?}"))
        };
        let auth = get("authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
        assert!(auth.contains("/us-east-1/healthlake/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date"), "{auth}");
        assert_eq!(get("x-amz-security-token"), "session");
        assert_eq!(get("x-amz-date").len(), 16);
        assert_eq!(
            healthlake_region("https://healthlake.eu-west-2.amazonaws.com/datastore/x/r4/").as_deref(),
            Some("eu-west-2")
        );
        assert_eq!(healthlake_region("http://127.0.0.1:8080/fhir"), None);
    }

    /// A provider that counts its calls and hands out credentials expiring `lifetime` from now;
    /// from call `fail_from` on it fails.
    #[derive(Debug)]
    struct Counting {
        calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        lifetime: std::time::Duration,
        fail_from: usize,
    }

    impl aws_credential_types::provider::ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n >= self.fail_from {
                return aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                    aws_credential_types::provider::error::CredentialsError::not_loaded("the endpoint is down"),
                ));
            }
            let expiry = std::time::SystemTime::now() + self.lifetime;
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                None,
                Some(expiry),
                "counting",
            )))
        }
    }

    async fn fetches_for_three_requests(lifetime: std::time::Duration) -> (usize, String) {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let signer = SigV4::new(
            SharedCredentialsProvider::new(Counting { calls: calls.clone(), lifetime, fail_from: usize::MAX }),
            "us-east-1",
            "healthlake",
        );
        let mut auth = String::new();
        for _ in 0..3 {
            let headers = signer.sign("GET", "https://healthlake.us-east-1.amazonaws.com/x", &[], b"").await.unwrap();
            auth = headers.into_iter().find(|(k, _)| k == "authorization").unwrap().1;
        }
        (calls.load(std::sync::atomic::Ordering::SeqCst), auth)
    }

    #[tokio::test]
    async fn credentials_are_fetched_once_while_they_last_and_again_before_they_expire() {
        // An hour's credentials (an ECS task role's): one fetch for three requests.
        let (fetches, auth) = fetches_for_three_requests(std::time::Duration::from_secs(3600)).await;
        assert_eq!(fetches, 1);
        assert!(auth.contains("Credential=AKID0/"), "{auth}");
        // Credentials within five minutes of expiring are fetched again for each request.
        let (fetches, auth) = fetches_for_three_requests(std::time::Duration::from_secs(60)).await;
        assert_eq!(fetches, 3);
        assert!(auth.contains("Credential=AKID2/"), "{auth}");
    }

    #[tokio::test]
    async fn a_failed_refresh_signs_with_the_credentials_held_until_they_expire() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let provider = Counting { calls: calls.clone(), lifetime: std::time::Duration::from_secs(60), fail_from: 1 };
        let signer = SigV4::new(SharedCredentialsProvider::new(provider), "us-east-1", "healthlake");
        for _ in 0..2 {
            let headers = signer.sign("GET", "https://healthlake.us-east-1.amazonaws.com/x", &[], b"").await.unwrap();
            let auth = headers.into_iter().find(|(k, _)| k == "authorization").unwrap().1;
            assert!(auth.contains("Credential=AKID0/"), "{auth}");
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2, "the refresh was tried again");
        // Nothing held and the endpoint down: a transient error, the request tried later.
        let provider = Counting { calls: calls.clone(), lifetime: std::time::Duration::from_secs(60), fail_from: 0 };
        let signer = SigV4::new(SharedCredentialsProvider::new(provider), "us-east-1", "healthlake");
        let err = signer.sign("GET", "https://healthlake.us-east-1.amazonaws.com/x", &[], b"").await.unwrap_err();
        assert!(matches!(err, SinkError::Transient { .. }), "{err}");
    }
}
