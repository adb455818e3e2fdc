variable "name" {
  description = "Prefix of every resource name (lowercase letters, digits, hyphens)."
  type        = string
  default     = "paperchart"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "intake_bucket_name" {
  description = "Name of the intake bucket users upload to; empty: <name>-intake-<account id>."
  type        = string
  default     = ""
}

variable "work_bucket_name" {
  description = "Name of the fleet's own bucket (Textract job records, NDJSON staging for imports); empty: <name>-work-<account id>."
  type        = string
  default     = ""
}

variable "intake_prefix" {
  description = "Only objects under this key prefix are processed (S3 notification filter); empty for all."
  type        = string
  default     = ""
}

variable "intake_suffixes" {
  description = "Only objects whose key ends with one of these are processed (one notification per suffix); empty for all. S3 filters are case-sensitive."
  type        = list(string)
  default     = [".pdf", ".PDF", ".tif", ".TIF", ".tiff", ".TIFF", ".png", ".PNG", ".jpg", ".JPG", ".jpeg", ".JPEG"]
}

variable "textract_response_retention_days" {
  description = "Days a job's saved Textract answer (work bucket, textract-responses/) is kept for replays; 0 keeps it. It moves to STANDARD_IA after 30 days."
  type        = number
  default     = 0
  validation {
    condition     = var.textract_response_retention_days == 0 || var.textract_response_retention_days > 30
    error_message = "textract_response_retention_days must be 0 (keep) or more than 30 (after the move to STANDARD_IA)."
  }
}

variable "intake_noncurrent_days" {
  description = "Days a replaced or deleted upload's old version is kept."
  type        = number
  default     = 90
}

variable "intake_expiration_days" {
  description = "Days an upload is kept in the intake bucket; 0 keeps it for ever."
  type        = number
  default     = 0
}

variable "worker_visibility_timeout_secs" {
  description = "The worker's lease on a message (worker.visibility_timeout_secs); the queues' visibility timeout. The worker extends it every worker_heartbeat_secs while a job runs."
  type        = number
  default     = 120
  validation {
    condition     = var.worker_visibility_timeout_secs >= 30 && var.worker_visibility_timeout_secs <= 43200
    error_message = "worker_visibility_timeout_secs: 30 to 43200."
  }
}

variable "worker_heartbeat_secs" {
  description = "How often the worker extends a running job's lease; must be well under the visibility timeout."
  type        = number
  default     = 30
}

variable "max_receives" {
  description = "Deliveries of a message before SQS moves it to the dead-letter queue (redrive policy)."
  type        = number
  default     = 5
}

variable "dlq_retention_secs" {
  description = "How long dead letters are kept (SQS maximum: 14 days)."
  type        = number
  default     = 1209600
}

variable "queue_retention_secs" {
  description = "How long work waits in the intake and completion queues."
  type        = number
  default     = 345600
}

variable "healthlake_datastore" {
  description = "create: a new HealthLake FHIR R4 datastore encrypted with the fleet's key; existing: use healthlake_datastore_id; none: no HealthLake (workers write to fhir_url)."
  type        = string
  default     = "create"
  validation {
    condition     = contains(["create", "existing", "none"], var.healthlake_datastore)
    error_message = "healthlake_datastore: create, existing or none."
  }
}

variable "healthlake_datastore_id" {
  description = "The existing datastore's id (healthlake_datastore = existing)."
  type        = string
  default     = ""
}

variable "fhir_url" {
  description = "FHIR server base URL the workers write to when healthlake_datastore = none."
  type        = string
  default     = ""
}

variable "sink" {
  description = "How workers write: healthlake (FHIR REST, SigV4) or staging (NDJSON in the work bucket, imported by the scheduler in bulk)."
  type        = string
  default     = "healthlake"
  validation {
    condition     = contains(["healthlake", "staging", "fhir"], var.sink)
    error_message = "sink: healthlake, staging or fhir."
  }
}

variable "create_services" {
  description = "Create the ECS services (worker and scheduler) and the worker's autoscaling. Off: cluster and task definitions only."
  type        = bool
  default     = true
}

variable "image" {
  description = "Container image holding both binaries (see Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/paperchart:<tag>. Pin a digest in production."
  type        = string
  default     = "paperchart:latest"
}

variable "subnet_ids" {
  description = "Private subnets of the tasks (with a NAT gateway or VPC endpoints for S3, SQS, Textract, HealthLake, ECR, Logs)."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC of the tasks' security group."
  type        = string
  default     = ""
}

variable "metrics_ingress_cidrs" {
  description = "CIDRs allowed to scrape the tasks' Prometheus ports (9464 worker, 9465 scheduler); empty when an ADOT sidecar scrapes in the task."
  type        = list(string)
  default     = []
}

variable "worker_cpu" {
  description = "Fargate CPU units of a worker task (1024 = 1 vCPU)."
  type        = number
  default     = 2048
}

variable "worker_memory" {
  description = "Fargate memory (MiB) of a worker task."
  type        = number
  default     = 4096
}

variable "worker_concurrency" {
  description = "Messages one worker handles at once (worker.concurrency); 0: one per vCPU."
  type        = number
  default     = 0
}

variable "worker_min_count" {
  description = "Fewest worker tasks. Keep at least 1: the backlog-per-task expression has no data with no task running."
  type        = number
  default     = 1
  validation {
    condition     = var.worker_min_count >= 1
    error_message = "worker_min_count: at least 1."
  }
}

variable "worker_max_count" {
  description = "Most worker tasks autoscaling may run. Textract's StartDocumentAnalysis and GetDocumentAnalysis quotas bound what more tasks can do."
  type        = number
  default     = 10
}

variable "backlog_per_task_target" {
  description = "Intake messages waiting per running worker that autoscaling holds: (acceptable latency) / (seconds per document)."
  type        = number
  default     = 20
}

variable "scale_in_cooldown_secs" {
  description = "Seconds after a scale-in before another."
  type        = number
  default     = 300
}

variable "scale_out_cooldown_secs" {
  description = "Seconds after a scale-out before another."
  type        = number
  default     = 60
}

variable "stop_timeout_secs" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL (Fargate maximum 120). The worker's drain budget (worker.shutdown_grace_secs) is this minus 15 s, so unfinished messages are released before the kill."
  type        = number
  default     = 120
  validation {
    condition     = var.stop_timeout_secs >= 30 && var.stop_timeout_secs <= 120
    error_message = "stop_timeout_secs: 30 to 120."
  }
}

variable "textract_start_per_sec" {
  description = "StartDocumentAnalysis calls per second per worker (divide your account quota by worker_max_count)."
  type        = number
  default     = 1
}

variable "textract_get_per_sec" {
  description = "GetDocumentAnalysis calls per second per worker."
  type        = number
  default     = 2
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the tasks' logs."
  type        = number
  default     = 365
}

variable "extra_environment" {
  description = "More PAPERCHART__SECTION__KEY settings for both containers."
  type        = map(string)
  default     = {}
}

variable "deny_insecure_transport" {
  description = "Bucket policies refuse every request not made over TLS. Turn off only for a local emulator listening on plain HTTP (terraform/local, make fleet-demo)."
  type        = bool
  default     = true
}
