# The intake bucket users upload to, and the fleet's work bucket (Textract job records, done
# markers, NDJSON staged for HealthLake imports). Both: SSE-KMS with a bucket key, no public
# access, TLS only, versioned, with lifecycle rules.

locals {
  intake_bucket = coalesce(var.intake_bucket_name, "${var.name}-intake-${local.account}")
  work_bucket   = coalesce(var.work_bucket_name, "${var.name}-work-${local.account}")
  # The worker's key prefix inside the work bucket (fleet.work_prefix).
  work_prefix = "paperchart/"
}

resource "aws_s3_bucket" "intake" {
  # checkov:skip=CKV_AWS_18:Server access logs need a log bucket of the user's logging account; CloudTrail data events are the audit trail (README, Operate).
  # checkov:skip=CKV_AWS_144:Cross-region replication of PHI is a residency decision left to the user.
  bucket = local.intake_bucket
  tags   = local.tags
}

resource "aws_s3_bucket" "work" {
  # checkov:skip=CKV_AWS_18:Server access logs need a log bucket of the user's logging account; CloudTrail data events are the audit trail (README, Operate).
  # checkov:skip=CKV_AWS_144:The work bucket holds transient records and staging, rebuilt from the intake bucket.
  # checkov:skip=CKV2_AWS_62:Nothing reacts to the work bucket's objects; the scheduler lists them.
  bucket = local.work_bucket
  tags   = local.tags
}

locals {
  buckets = { intake = aws_s3_bucket.intake, work = aws_s3_bucket.work }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = local.buckets
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "all" {
  for_each = local.buckets
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = local.buckets
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.fleet.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "all" {
  for_each = local.buckets
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = var.deny_insecure_transport ? local.buckets : {}
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each   = var.deny_insecure_transport ? local.buckets : {}
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.all]
}

resource "aws_s3_bucket_lifecycle_configuration" "intake" {
  bucket     = aws_s3_bucket.intake.id
  depends_on = [aws_s3_bucket_versioning.all]
  rule {
    id     = "old-versions-and-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.intake_noncurrent_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
    dynamic "expiration" {
      for_each = var.intake_expiration_days > 0 ? [var.intake_expiration_days] : []
      content {
        days = expiration.value
      }
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "work" {
  bucket     = aws_s3_bucket.work.id
  depends_on = [aws_s3_bucket_versioning.all]
  rule {
    id     = "done-markers"
    status = "Enabled"
    # A done marker turns away duplicates of an event already written; S3 redelivers within
    # hours, and a later re-upload is a new version with a new token.
    filter {
      prefix = "${local.work_prefix}textract-done/"
    }
    expiration {
      days = 30
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "set-aside-job-records"
    status = "Enabled"
    # Records of jobs whose documents were dead-lettered wait for a redrive; SQS keeps a letter
    # at most 14 days, so after 30 no letter can come back for them.
    filter {
      prefix = "${local.work_prefix}textract-failed/"
    }
    expiration {
      days = 30
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "job-leases"
    status = "Enabled"
    # A lease left by a worker that was stopped mid-job runs out in 15 minutes; the object goes.
    filter {
      prefix = "${local.work_prefix}textract-leases/"
    }
    expiration {
      days = 1
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "textract-responses"
    status = "Enabled"
    # Saved Textract answers, replayed after a release; Textract itself forgets them in 7 days.
    filter {
      prefix = "${local.work_prefix}textract-responses/"
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    dynamic "expiration" {
      for_each = var.textract_response_retention_days > 0 ? [var.textract_response_retention_days] : []
      content {
        days = expiration.value
      }
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "imported-batches"
    status = "Enabled"
    filter {
      prefix = "${local.work_prefix}imports/"
    }
    expiration {
      days = 90
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "old-versions-and-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_notification" "intake" {
  bucket = aws_s3_bucket.intake.id
  dynamic "queue" {
    for_each = length(var.intake_suffixes) > 0 ? var.intake_suffixes : [""]
    content {
      id            = "paperchart${replace(queue.value, ".", "-")}"
      queue_arn     = aws_sqs_queue.work["intake"].arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = var.intake_prefix == "" ? null : var.intake_prefix
      filter_suffix = queue.value == "" ? null : queue.value
    }
  }
  depends_on = [aws_sqs_queue_policy.work]
}
