# One customer-managed key encrypts the buckets, queues, topic, logs and the HealthLake datastore.
# The services that write into encrypted resources on the fleet's behalf (S3 and SNS delivering to
# SQS, CloudWatch Logs) may use it for this account only.
resource "aws_kms_key" "fleet" {
  description             = "${var.name}: intake documents, queues, Textract notices, logs, FHIR datastore"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = local.tags
}

resource "aws_kms_alias" "fleet" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.fleet.key_id
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; write access is limited to this account's root and, by SourceAccount, to the services delivering into the fleet's resources.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only.
  # checkov:skip=CKV_AWS_109:The account administers its own key (the default key policy); no other principal may change it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }
  statement {
    sid       = "ServicesDeliverToEncryptedQueues"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com", "sns.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
  statement {
    sid       = "LogsEncryptTaskLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/ecs/${var.name}/*"]
    }
  }
}
