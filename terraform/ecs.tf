# The worker and scheduler on Fargate: one cluster, one task definition and one service each.
# Containers run as the image's non-root user on a read-only root filesystem (a scratch volume
# at /tmp), log to CloudWatch Logs encrypted with the fleet's key, and are probed by
# `paperchart probe` (the worker's /readyz, the scheduler's /metrics).

locals {
  worker_port    = 8081 # /healthz and /readyz (fleet.health_port)
  metrics_port   = 9464 # worker /metrics (metrics.port)
  scheduler_port = 9465 # scheduler /metrics (scheduler.metrics_port)
  sink_url       = var.sink == "healthlake" || var.sink == "staging" ? local.healthlake_endpoint : var.fhir_url
  environment = merge({
    PAPERCHART__FLEET__INTAKE_QUEUE_URL            = aws_sqs_queue.work["intake"].url
    PAPERCHART__FLEET__INTAKE_DLQ_URL              = aws_sqs_queue.dlq["intake"].url
    PAPERCHART__FLEET__COMPLETION_QUEUE_URL        = aws_sqs_queue.work["completion"].url
    PAPERCHART__FLEET__COMPLETION_DLQ_URL          = aws_sqs_queue.dlq["completion"].url
    PAPERCHART__FLEET__TEXTRACT_SNS_TOPIC_ARN      = aws_sns_topic.textract.arn
    PAPERCHART__FLEET__TEXTRACT_ROLE_ARN           = aws_iam_role.textract.arn
    PAPERCHART__FLEET__TEXTRACT_START_PER_SEC      = tostring(var.textract_start_per_sec)
    PAPERCHART__FLEET__TEXTRACT_GET_PER_SEC        = tostring(var.textract_get_per_sec)
    PAPERCHART__FLEET__WORK_BUCKET                 = aws_s3_bucket.work.bucket
    PAPERCHART__FLEET__WORK_PREFIX                 = local.work_prefix
    PAPERCHART__FLEET__HEALTH_PORT                 = tostring(local.worker_port)
    PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS    = tostring(var.worker_visibility_timeout_secs)
    PAPERCHART__WORKER__HEARTBEAT_SECS             = tostring(var.worker_heartbeat_secs)
    PAPERCHART__WORKER__MAX_RECEIVES               = tostring(var.max_receives)
    PAPERCHART__WORKER__SHUTDOWN_GRACE_SECS        = tostring(var.stop_timeout_secs - 15)
    PAPERCHART__WORKER__CONCURRENCY                = tostring(var.worker_concurrency)
    PAPERCHART__METRICS__PORT                      = tostring(local.metrics_port)
    PAPERCHART__SINK__KIND                         = var.sink
    PAPERCHART__SINK__FHIR_URL                     = local.sink_url
    PAPERCHART__SCHEDULER__METRICS_PORT            = tostring(local.scheduler_port)
    PAPERCHART__SCHEDULER__ECS_CLUSTER             = var.name
    PAPERCHART__SCHEDULER__WORKER_SERVICE          = "${var.name}-worker"
    PAPERCHART__SCHEDULER__METRICS_NAMESPACE       = var.name
    PAPERCHART__SCHEDULER__IMPORT_DLQ_URL          = aws_sqs_queue.dlq["import"].url
    PAPERCHART__SCHEDULER__HEALTHLAKE_DATASTORE_ID = var.sink == "staging" ? local.healthlake_id : ""
    PAPERCHART__SCHEDULER__IMPORT_ROLE_ARN         = local.uses_healthlake ? aws_iam_role.import[0].arn : ""
    PAPERCHART__SCHEDULER__IMPORT_KMS_KEY_ID       = aws_kms_key.fleet.arn
    PAPERCHART_LOG                                 = "info"
  }, var.extra_environment)
}

resource "aws_cloudwatch_log_group" "tasks" {
  for_each          = toset(["worker", "scheduler"])
  name              = "/ecs/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.fleet.arn
  tags              = local.tags
}

resource "aws_ecs_cluster" "fleet" {
  name = var.name
  # Container Insights publishes RunningTaskCount, the denominator of the worker's scaling metric.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = local.tags
}

locals {
  containers = {
    worker = {
      command = ["paperchart", "worker"]
      cpu     = var.worker_cpu
      memory  = var.worker_memory
      probe   = "http://127.0.0.1:${local.worker_port}/readyz"
      ports   = [local.worker_port, local.metrics_port]
      role    = aws_iam_role.worker.arn
    }
    scheduler = {
      command = ["paperchart-scheduler", "run"]
      cpu     = 256
      memory  = 512
      probe   = "http://127.0.0.1:${local.scheduler_port}/metrics"
      ports   = [local.scheduler_port]
      role    = aws_iam_role.scheduler.arn
    }
  }
}

resource "aws_ecs_task_definition" "fleet" {
  for_each                 = local.containers
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = each.value.role
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  volume {
    name = "tmp"
  }
  container_definitions = jsonencode([{
    name                   = each.key
    image                  = var.image
    command                = each.value.command
    essential              = true
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    privileged             = false
    stopTimeout            = var.stop_timeout_secs
    environment            = [for k, v in local.environment : { name = k, value = v } if v != ""]
    portMappings           = [for p in each.value.ports : { containerPort = p, protocol = "tcp" }]
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    linuxParameters        = { initProcessEnabled = true, capabilities = { drop = ["ALL"] } }
    healthCheck = {
      command     = ["CMD", "paperchart", "probe", each.value.probe]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.tasks[each.key].name
        "awslogs-region"        = local.region
        "awslogs-stream-prefix" = each.key
      }
    }
  }])
  tags = local.tags
}

resource "aws_security_group" "tasks" {
  count       = var.create_services ? 1 : 0
  name        = "${var.name}-tasks"
  description = "paperchart tasks: HTTPS out to AWS APIs and the FHIR server; Prometheus scrapes in from metrics_ingress_cidrs"
  vpc_id      = var.vpc_id
  egress {
    description = "HTTPS to S3, SQS, Textract, HealthLake, ECR, CloudWatch"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  dynamic "ingress" {
    for_each = length(var.metrics_ingress_cidrs) > 0 ? [local.metrics_port, local.scheduler_port] : []
    content {
      description = "Prometheus scrape"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = var.metrics_ingress_cidrs
    }
  }
  tags = local.tags
}

resource "aws_ecs_service" "fleet" {
  for_each               = var.create_services ? local.containers : {}
  name                   = "${var.name}-${each.key}"
  cluster                = aws_ecs_cluster.fleet.id
  task_definition        = aws_ecs_task_definition.fleet[each.key].arn
  launch_type            = "FARGATE"
  desired_count          = each.key == "worker" ? var.worker_min_count : 1
  propagate_tags         = "SERVICE"
  enable_execute_command = false
  # The scheduler must never run twice; the worker rolls one task at a time.
  deployment_minimum_healthy_percent = each.key == "worker" ? 100 : 0
  deployment_maximum_percent         = each.key == "worker" ? 200 : 100
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks[0].id]
    assign_public_ip = false
  }
  lifecycle {
    # Autoscaling owns the worker's desired count after creation.
    ignore_changes = [desired_count]
  }
  tags = local.tags
}
