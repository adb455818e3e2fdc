# Least privilege: the Textract publishing role, and one task role per container with exactly
# the actions it calls on exactly its resources. Textract and CloudWatch GetMetricData support no
# resource-level permissions; those statements name "*" and say so.

# --- who may assume the roles: each service, for this account's resources only --------------
locals {
  trusted = {
    textract = { service = "textract.amazonaws.com", source = "arn:${local.partition}:textract:${local.region}:${local.account}:*" }
    tasks    = { service = "ecs-tasks.amazonaws.com", source = "arn:${local.partition}:ecs:${local.region}:${local.account}:*" }
    import   = { service = "healthlake.amazonaws.com", source = "arn:${local.partition}:healthlake:${local.region}:${local.account}:datastore/fhir/*" }
  }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.trusted
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value.service]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [each.value.source]
    }
  }
}

# --- Textract publishes job completions to the topic -------------------------------------------
resource "aws_iam_role" "textract" {
  name               = "${var.name}-textract-publish"
  assume_role_policy = data.aws_iam_policy_document.trust["textract"].json
  tags               = local.tags
}

data "aws_iam_policy_document" "textract" {
  statement {
    sid       = "PublishCompletions"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.textract.arn]
  }
  statement {
    sid       = "EncryptNotices"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.fleet.arn]
  }
}

resource "aws_iam_role_policy" "textract" {
  name   = "publish"
  role   = aws_iam_role.textract.id
  policy = data.aws_iam_policy_document.textract.json
}

# --- the tasks ---------------------------------------------------------------------------------
# Pulls the image and writes the logs.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.trust["tasks"].json
  tags               = local.tags
}

# What AmazonECSTaskExecutionRolePolicy grants, narrowed to this fleet: pull the image from its
# ECR repository (when the image lives in ECR) and write to the two log groups.
locals {
  ecr_image = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com[^/]*/([^:@]+)", var.image), null)
}

data "aws_iam_policy_document" "execution" {
  dynamic "statement" {
    for_each = local.ecr_image == null ? [] : [local.ecr_image]
    content {
      sid       = "PullImage"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = ["arn:${local.partition}:ecr:${statement.value[1]}:${statement.value[0]}:repository/${statement.value[2]}"]
    }
  }
  dynamic "statement" {
    for_each = local.ecr_image == null ? [] : [local.ecr_image]
    content {
      sid = "EcrToken"
      # checkov:skip=CKV_AWS_107:ecr:GetAuthorizationToken has no resource-level permissions; the token only reaches repositories the PullImage statement allows
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for g in aws_cloudwatch_log_group.tasks : "${g.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

locals {
  healthlake_rest_actions = [
    "healthlake:GetCapabilities", "healthlake:CreateResource", "healthlake:UpdateResource",
    "healthlake:ReadResource", "healthlake:SearchWithGet", "healthlake:SearchWithPost",
    # A document processed again deletes what its earlier version wrote and it no longer holds.
    "healthlake:DeleteResource",
  ]
}

resource "aws_iam_role" "worker" {
  name               = "${var.name}-worker"
  assume_role_policy = data.aws_iam_policy_document.trust["tasks"].json
  tags               = local.tags
}

# What both containers do: job records, staging and imports under the work prefix, with the key.
data "aws_iam_policy_document" "work_prefix" {
  statement {
    sid       = "JobRecordsStagingImports"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.work.arn}/${local.work_prefix}*"]
  }
  statement {
    sid       = "ListWork"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.work.arn]
  }
  statement {
    sid       = "UseFleetKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.fleet.arn]
  }
}

data "aws_iam_policy_document" "worker" {
  source_policy_documents = [data.aws_iam_policy_document.work_prefix.json]
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.intake.arn}/*"]
  }
  statement {
    sid = "ConsumeQueues"
    actions = [
      "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.work["intake"].arn, aws_sqs_queue.work["completion"].arn]
  }
  statement {
    # Dead letters with their reason; throttled work re-sent to its own queue as a new message
    # (so waiting out a throttle never spends the queue's receive limit).
    sid     = "DeadLetterWithReasonAndRequeue"
    actions = ["sqs:SendMessage"]
    resources = [
      aws_sqs_queue.dlq["intake"].arn, aws_sqs_queue.dlq["completion"].arn,
      aws_sqs_queue.work["intake"].arn, aws_sqs_queue.work["completion"].arn,
    ]
  }
  statement {
    # Textract has no resource-level permissions for these actions.
    sid       = "Textract"
    actions   = ["textract:StartDocumentAnalysis", "textract:GetDocumentAnalysis"]
    resources = ["*"]
  }
  statement {
    sid       = "HandTextractItsRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.textract.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["textract.amazonaws.com"]
    }
  }
  dynamic "statement" {
    for_each = local.uses_healthlake && var.sink == "healthlake" ? [1] : []
    content {
      sid       = "WriteFhir"
      actions   = local.healthlake_rest_actions
      resources = [local.healthlake_arn]
    }
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "worker"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.trust["tasks"].json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  source_policy_documents = [data.aws_iam_policy_document.work_prefix.json]
  statement {
    sid       = "MeasureQueues"
    actions   = ["sqs:GetQueueAttributes"]
    resources = concat([aws_sqs_queue.work["intake"].arn, aws_sqs_queue.work["completion"].arn], [for q in aws_sqs_queue.dlq : q.arn])
  }
  statement {
    # Lost notices are sent again; unknown jobs and refused import resources are dead-lettered.
    sid       = "RenotifyAndDeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work["completion"].arn, aws_sqs_queue.dlq["completion"].arn, aws_sqs_queue.dlq["import"].arn]
  }
  statement {
    # `paperchart-scheduler redrive` as a one-off task: dead letters back to their queue; every
    # round, letters SQS moved by itself are given their reason (and letters held are released).
    sid       = "RedriveAndAnnotate"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage", "sqs:ChangeMessageVisibility"]
    resources = concat([aws_sqs_queue.work["intake"].arn, aws_sqs_queue.work["completion"].arn], [for q in aws_sqs_queue.dlq : q.arn])
  }
  statement {
    # Textract has no resource-level permissions for this action.
    sid       = "CheckStuckJobs"
    actions   = ["textract:GetDocumentAnalysis"]
    resources = ["*"]
  }
  statement {
    sid       = "CountWorkers"
    actions   = ["ecs:DescribeServices"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account}:service/${var.name}/${var.name}-worker"]
  }
  statement {
    # GetMetricData has no resource-level permissions.
    sid       = "OldestMessageAge"
    actions   = ["cloudwatch:GetMetricData"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = local.uses_healthlake ? [1] : []
    content {
      sid       = "Imports"
      actions   = ["healthlake:StartFHIRImportJob", "healthlake:DescribeFHIRImportJob", "healthlake:ListFHIRImportJobs"]
      resources = [local.healthlake_arn]
    }
  }
  dynamic "statement" {
    for_each = local.uses_healthlake ? [1] : []
    content {
      sid       = "HandHealthLakeItsRole"
      actions   = ["iam:PassRole"]
      resources = [aws_iam_role.import[0].arn]
      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["healthlake.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
