# The intake queue (S3 upload events) and the completion queue (Textract notices through SNS),
# each with a dead-letter queue and a redrive policy; the import dead-letter queue (resources a
# HealthLake import refused); the SNS topic Textract notifies. All encrypted with the fleet's key.

locals {
  queues = {
    intake     = "${var.name}-intake"
    completion = "${var.name}-completion"
  }
}

resource "aws_sqs_queue" "dlq" {
  for_each                  = merge(local.queues, { import = "${var.name}-import" })
  name                      = "${each.value}-dlq"
  message_retention_seconds = var.dlq_retention_secs
  kms_master_key_id         = aws_kms_key.fleet.arn
  tags                      = local.tags
}

resource "aws_sqs_queue" "intake" {
  name                       = local.queues.intake
  visibility_timeout_seconds = var.worker_visibility_timeout_secs
  message_retention_seconds  = var.queue_retention_secs
  receive_wait_time_seconds  = 20
  kms_master_key_id          = aws_kms_key.fleet.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq["intake"].arn
    maxReceiveCount     = var.max_receives
  })
  tags = local.tags
}

resource "aws_sqs_queue" "completion" {
  name                       = local.queues.completion
  visibility_timeout_seconds = var.worker_visibility_timeout_secs
  message_retention_seconds  = var.queue_retention_secs
  receive_wait_time_seconds  = 20
  kms_master_key_id          = aws_kms_key.fleet.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq["completion"].arn
    maxReceiveCount     = var.max_receives
  })
  tags = local.tags
}

# Only the intake and completion queues may redrive into their dead-letter queues.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each  = local.queues
  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [each.key == "intake" ? aws_sqs_queue.intake.arn : aws_sqs_queue.completion.arn]
  })
}

data "aws_iam_policy_document" "intake_queue" {
  statement {
    sid       = "IntakeBucketNotifies"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.intake.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.intake.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sqs_queue_policy" "intake" {
  queue_url = aws_sqs_queue.intake.id
  policy    = data.aws_iam_policy_document.intake_queue.json
}

data "aws_iam_policy_document" "completion_queue" {
  statement {
    sid       = "TextractTopicDelivers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.completion.arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.textract.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "completion" {
  queue_url = aws_sqs_queue.completion.id
  policy    = data.aws_iam_policy_document.completion_queue.json
}

# Textract publishes job completions here. Its name must start with AmazonTextract for the
# AWS-managed Textract policies; the role Textract assumes may publish to this topic only.
resource "aws_sns_topic" "textract" {
  name              = "AmazonTextract-${var.name}"
  kms_master_key_id = aws_kms_key.fleet.arn
  tags              = local.tags
}

data "aws_iam_policy_document" "textract_topic" {
  statement {
    sid       = "TextractRolePublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.textract.arn]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.textract.arn]
    }
  }
  statement {
    sid       = "AccountManages"
    actions   = ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:DeleteTopic"]
    resources = [aws_sns_topic.textract.arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }
}

resource "aws_sns_topic_policy" "textract" {
  arn    = aws_sns_topic.textract.arn
  policy = data.aws_iam_policy_document.textract_topic.json
}

resource "aws_sns_topic_subscription" "completion" {
  topic_arn  = aws_sns_topic.textract.arn
  protocol   = "sqs"
  endpoint   = aws_sqs_queue.completion.arn
  depends_on = [aws_sqs_queue_policy.completion]
}
