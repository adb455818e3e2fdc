output "intake_bucket" {
  description = "Upload documents here."
  value       = aws_s3_bucket.intake.bucket
}

output "work_bucket" {
  description = "The fleet's job records and NDJSON staging."
  value       = aws_s3_bucket.work.bucket
}

output "queues" {
  description = "Queue URLs: work queues and their dead-letter queues."
  value = {
    intake         = aws_sqs_queue.work["intake"].url
    intake_dlq     = aws_sqs_queue.dlq["intake"].url
    completion     = aws_sqs_queue.work["completion"].url
    completion_dlq = aws_sqs_queue.dlq["completion"].url
    import_dlq     = aws_sqs_queue.dlq["import"].url
  }
}

output "textract_topic_arn" {
  value = aws_sns_topic.textract.arn
}

output "kms_key_arn" {
  value = aws_kms_key.fleet.arn
}

output "healthlake_datastore_id" {
  value = local.healthlake_id
}

output "healthlake_endpoint" {
  description = "FHIR R4 base URL of the datastore."
  value       = local.healthlake_endpoint
}

output "cluster" {
  value = aws_ecs_cluster.fleet.name
}

output "task_roles" {
  value = { worker = aws_iam_role.worker.arn, scheduler = aws_iam_role.scheduler.arn, textract = aws_iam_role.textract.arn }
}

output "environment" {
  description = "The containers' PAPERCHART__* settings (also to run a worker outside ECS)."
  value       = local.environment
}

output "dashboards" {
  description = "What to import into Grafana and Prometheus (paths in this repository)."
  value = {
    grafana_dashboard = "deploy/grafana/paperchart.json"
    prometheus_rules  = "deploy/prometheus/alerts.yml"
    ecs_scrape        = "deploy/ecs/README.md"
  }
}
