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

# The two work queues: visibility = the worker's lease, redrive to their own DLQ.
resource "aws_sqs_queue" "work" {
  for_each                   = local.queues
  name                       = each.value
  visibility_timeout_seconds = var.worker_visibility_timeout_secs
  message_retention_seconds  = var.queue_retention_secs
  receive_wait_time_seconds  = 20
  kms_master_key_id          = aws_kms_key.fleet.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receives
  })
  tags = local.tags
  lifecycle {
    precondition {
      # The worker refuses to start otherwise: a lease must survive a missed extension.
      condition     = var.worker_heartbeat_secs >= 1 && var.worker_heartbeat_secs * 2 <= var.worker_visibility_timeout_secs
      error_message = "worker_heartbeat_secs must be at least 1 and at most half of worker_visibility_timeout_secs."
    }
  }
}

# A dead-letter queue takes the dead letters of its own work queue only.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each  = local.queues
  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.work[each.key].arn]
  })
}

# Who may send to each work queue: the intake bucket's notifications (S3), the Textract topic
# (SNS), each only from its own resource.
locals {
  queue_senders = {
    intake     = { service = "s3.amazonaws.com", source = aws_s3_bucket.intake.arn, sid = "IntakeBucketNotifies" }
    completion = { service = "sns.amazonaws.com", source = aws_sns_topic.textract.arn, sid = "TextractTopicDelivers" }
  }
}

data "aws_iam_policy_document" "queue_senders" {
  for_each = local.queue_senders
  statement {
    sid       = each.value.sid
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work[each.key].arn]
    principals {
      type        = "Service"
      identifiers = [each.value.service]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [each.value.source]
    }
    # A bucket ARN names no account: a bucket of that name in another account must not send.
    dynamic "condition" {
      for_each = each.key == "intake" ? [local.account] : []
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_sqs_queue_policy" "work" {
  for_each  = local.queue_senders
  queue_url = aws_sqs_queue.work[each.key].id
  policy    = data.aws_iam_policy_document.queue_senders[each.key].json
}

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
  endpoint   = aws_sqs_queue.work["completion"].arn
  depends_on = [aws_sqs_queue_policy.work]
}
