//! The Textract engine against Textract on a moto server (patched by scripts/harness/moto_server.py to
//! honour tokens, tags and notification channels and to OCR for real): a job started twice for
//! the same object is one job, its completion notice arrives on the completion queue through
//! SNS, results are read page by page of the API, failures are permanent, and throttling is
//! retried.

use std::time::Duration;

use paperchart_aws::events::parse_completion;
use paperchart_aws::textract::{TextractEngine, TextractSettings};
use paperchart_core::error::Classified;
use paperchart_core::ocr::OcrError;
use paperchart_core::source::ObjectLocation;
use paperchart_model::document::ReadBy;
use paperchart_testkit::*;

struct Stack {
    _moto: Moto,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    engine: TextractEngine,
}

async fn stack(max_attempts: u32) -> Stack {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let s3 = paperchart_aws::s3_client(&sdk, &moto.aws_config());
    s3.create_bucket().bucket("intake").send().await.unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns.create_topic().name("AmazonTextract-paperchart").send().await.unwrap().topic_arn.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("completion").send().await.unwrap().queue_url.unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(arn).send().await.unwrap();
    let engine = TextractEngine::new(
        paperchart_aws::textract_client(&sdk),
        TextractSettings {
            sns_topic_arn: topic,
            role_arn: "arn:aws:iam::123456789012:role/textract-publish".into(),
            start_per_sec: 50.0,
            get_per_sec: 50.0,
            max_attempts,
            backoff: paperchart_core::backoff::Backoff::new(Duration::from_millis(20), Duration::from_secs(20)),
        },
    );
    Stack { _moto: moto, s3, sqs, queue, engine }
}

impl Stack {
    async fn put(&self, key: &str, body: Vec<u8>) -> ObjectLocation {
        self.s3.put_object().bucket("intake").key(key).body(body.into()).send().await.unwrap();
        ObjectLocation { bucket: "intake".into(), key: key.into(), version_id: None, etag: None }
    }

    /// The next completion notice from the queue.
    async fn notice(&self) -> paperchart_aws::events::TextractCompletion {
        for _ in 0..120 {
            let out = self.sqs.receive_message().queue_url(&self.queue).wait_time_seconds(1).send().await.unwrap();
            if let Some(m) = out.messages.unwrap_or_default().into_iter().next() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
                return parse_completion(&m.body.unwrap()).unwrap();
            }
        }
        panic!("no completion notice within two minutes");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scanned_tiff_is_read_asynchronously_with_a_notice() {
    let s = stack(3).await;
    let obj =
        s.put("referral letter.tif", std::fs::read(samples().join("documents/referral-letter.tif")).unwrap()).await;
    let job = s.engine.start_analysis(&obj, "sha256:00", "doc-1").await.unwrap();
    assert_eq!(
        s.engine.start_analysis(&obj, "sha256:00", "doc-1").await.unwrap(),
        job,
        "the same object gets the same job"
    );
    let notice = s.notice().await;
    assert_eq!(
        (notice.job_id.as_str(), notice.status.as_str(), notice.job_tag.as_deref()),
        (job.as_str(), "SUCCEEDED", Some("doc-1"))
    );
    assert_eq!(notice.key.as_deref(), Some("referral letter.tif"));
    let result = s.engine.get_result(&job).await.unwrap().expect("finished");
    assert_eq!(result.pages, 2);
    let doc = result.document;
    assert_eq!(doc.pages.len(), 2);
    assert!(doc.pages.iter().all(|p| p.read_by == ReadBy::Textract));
    let text = doc.text();
    assert!(text.contains("Referral Letter") && text.contains("furosemide"), "{text}");
    assert!(doc.pages[0].lines[0].words[0].bbox.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn long_results_are_read_page_by_page() {
    let s = stack(3).await;
    let fixture = root().join(".cache/textract2page/nd1969-01-21_3.json");
    assert!(fixture.exists(), "run `make textract-fixtures`");
    let obj = s.put("news.png", std::fs::read(samples().join("documents/medication-list-photo.png")).unwrap()).await;
    s.put("news.png.textract.json", std::fs::read(&fixture).unwrap()).await;
    let job = s.engine.start_analysis(&obj, "sha256:00", "doc-2").await.unwrap();
    assert_eq!(s.notice().await.status, "SUCCEEDED");
    let doc = s.engine.get_result(&job).await.unwrap().unwrap().document;
    // 3,200 blocks in four result pages of at most 1,000: every line must be there.
    let lines: usize = doc.pages.iter().map(|p| p.lines.len()).sum();
    assert_eq!(lines, 536);
    assert_eq!(doc.pages[0].tables.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_unsupported_documents_fail_permanently() {
    let s = stack(3).await;
    let missing = ObjectLocation { bucket: "intake".into(), key: "nowhere.pdf".into(), version_id: None, etag: None };
    let job = s.engine.start_analysis(&missing, "sha256:00", "doc-3").await.unwrap();
    assert_eq!(s.notice().await.status, "FAILED");
    let err = s.engine.get_result(&job).await.err().unwrap();
    assert!(matches!(&err, OcrError::JobFailed { message, .. } if message.contains("INVALID_S3_OBJECT")), "{err}");
    assert!(err.class().is_permanent());

    let text = s.put("notes.txt", b"just text".to_vec()).await;
    let job = s.engine.start_analysis(&text, "sha256:00", "doc-4").await.unwrap();
    assert_eq!(s.notice().await.status, "FAILED");
    assert!(
        matches!(s.engine.get_result(&job).await, Err(OcrError::JobFailed { message, .. }) if message.contains("UNSUPPORTED_DOCUMENT"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_retried_and_capacity_limits_are_transient() {
    let s = stack(3).await;
    let png = std::fs::read(samples().join("documents/medication-list-photo.png")).unwrap();
    let twice = s.put("a__throttle2__.png", png.clone()).await;
    assert!(s.engine.start_analysis(&twice, "sha256:00", "doc-5").await.is_ok(), "two throttles fit in three attempts");
    let always = s.put("b__throttle9__.png", png.clone()).await;
    let err = s.engine.start_analysis(&always, "sha256:00", "doc-6").await.unwrap_err();
    assert!(matches!(err, OcrError::Throttled { .. }), "{err}");
    assert!(!err.class().is_permanent());
    let busy = s.put("c__limit1__.png", png).await;
    let err = s.engine.start_analysis(&busy, "sha256:00", "doc-7").await.unwrap_err();
    assert!(matches!(err, OcrError::AtCapacity { .. }) && !err.class().is_permanent(), "{err}");
    assert!(s.engine.start_analysis(&busy, "sha256:00", "doc-7").await.is_ok(), "and later it starts");
}
