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

/// AWS SigV4 signing of each request (HealthLake's data plane).
pub struct SigV4 {
    pub credentials: aws_credential_types::provider::SharedCredentialsProvider,
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
        Ok(SigV4 { credentials, region, service: service.to_string() })
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
        use aws_credential_types::provider::ProvideCredentials;
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let fail = |what: &str, e: &dyn std::fmt::Display| SinkError::Rejected {
            status: 0,
            detail: format!("SigV4 {what}: {e}"),
        };
        let creds = self.credentials.provide_credentials().await.map_err(|e| SinkError::Transient {
            status: None,
            detail: format!("AWS credentials: {e}"),
            retry_after: None,
        })?;
        let identity = creds.into();
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
        let signer = SigV4 {
            credentials: SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "test",
            )),
            region: "us-east-1".into(),
            service: "healthlake".into(),
        };
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
}
