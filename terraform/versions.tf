# paperchart's AWS fleet as one module: apply it with your own variables (see variables.tf and
# README.md, "Operate"). It configures no provider: the caller's (or the environment's) is used.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  tags      = merge({ "app" = "paperchart", "paperchart:name" = var.name }, var.tags)
}
