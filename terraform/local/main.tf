# The module against a moto server on 127.0.0.1 (make test, make fleet-demo): every AWS endpoint
# pointed at moto, HealthLake and the ECS services off (moto has no HealthLake and runs no tasks).
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:5000"
}

variable "name" {
  type    = string
  default = "paperchart"
}

# The buckets' TLS-only policy, which moto enforces: on for the checks of make test (a plain-HTTP
# upload must be refused), off for make fleet-demo, whose moto listens on plain HTTP.
variable "deny_insecure_transport" {
  type    = bool
  default = false
}

variable "visibility_timeout_secs" {
  type    = number
  default = 30
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  endpoints {
    applicationautoscaling = var.endpoint
    cloudformation         = var.endpoint
    cloudwatch             = var.endpoint
    ec2                    = var.endpoint
    ecs                    = var.endpoint
    iam                    = var.endpoint
    kms                    = var.endpoint
    logs                   = var.endpoint
    s3                     = var.endpoint
    sns                    = var.endpoint
    sqs                    = var.endpoint
    sts                    = var.endpoint
  }
}

module "paperchart" {
  source                         = "../"
  name                           = var.name
  healthlake_datastore           = "none"
  sink                           = "fhir"
  create_services                = false
  worker_visibility_timeout_secs = var.visibility_timeout_secs
  worker_heartbeat_secs          = floor(var.visibility_timeout_secs / 3)
  intake_suffixes                = []
  deny_insecure_transport        = var.deny_insecure_transport
}

# Every output of the module (scripts/harness/fleet_stack.py module_outputs reads it).
output "fleet" {
  value = module.paperchart
}
