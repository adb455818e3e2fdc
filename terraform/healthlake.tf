# The FHIR R4 datastore the workers write to. The AWS provider has no HealthLake resource, so a
# new datastore is an AWS::HealthLake::FHIRDatastore in a CloudFormation stack, encrypted with the
# fleet's key. Or bring an existing one (healthlake_datastore = "existing"), or none.

resource "aws_cloudformation_stack" "healthlake" {
  count = var.healthlake_datastore == "create" ? 1 : 0
  name  = "${var.name}-healthlake"
  template_body = jsonencode({
    AWSTemplateFormatVersion = "2010-09-09"
    Resources = {
      Datastore = {
        Type           = "AWS::HealthLake::FHIRDatastore"
        DeletionPolicy = "Retain"
        Properties = {
          DatastoreName        = var.name
          DatastoreTypeVersion = "R4"
          SseConfiguration = {
            KmsEncryptionConfig = { CmkType = "CUSTOMER_MANAGED_KMS_KEY", KmsKeyId = aws_kms_key.fleet.arn }
          }
        }
      }
    }
    Outputs = {
      Id       = { Value = { "Fn::GetAtt" = ["Datastore", "DatastoreId"] } }
      Arn      = { Value = { "Fn::GetAtt" = ["Datastore", "DatastoreArn"] } }
      Endpoint = { Value = { "Fn::GetAtt" = ["Datastore", "DatastoreEndpoint"] } }
    }
  })
  timeouts {
    create = "60m"
  }
  tags = local.tags
}

locals {
  healthlake_id = (
    var.healthlake_datastore == "create" ? aws_cloudformation_stack.healthlake[0].outputs["Id"] :
    var.healthlake_datastore == "existing" ? var.healthlake_datastore_id : ""
  )
  healthlake_arn      = local.healthlake_id == "" ? "" : "arn:${local.partition}:healthlake:${local.region}:${local.account}:datastore/fhir/${local.healthlake_id}"
  healthlake_endpoint = local.healthlake_id == "" ? "" : "https://healthlake.${local.region}.amazonaws.com/datastore/${local.healthlake_id}/r4/"
  uses_healthlake     = var.healthlake_datastore != "none"
}

# HealthLake assumes this role (trust: iam.tf, for this account's datastores only) to read a
# staged NDJSON batch and write the import's output report.
resource "aws_iam_role" "import" {
  count              = local.uses_healthlake ? 1 : 0
  name               = "${var.name}-healthlake-import"
  assume_role_policy = data.aws_iam_policy_document.trust["import"].json
  tags               = local.tags
}

data "aws_iam_policy_document" "import" {
  statement {
    sid       = "ReadStagedBatches"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.work.arn}/${local.work_prefix}imports/*"]
  }
  statement {
    sid       = "ListStagedBatches"
    actions   = ["s3:ListBucket", "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration"]
    resources = [aws_s3_bucket.work.arn]
  }
  statement {
    sid       = "WriteImportReports"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.work.arn}/${local.work_prefix}imports/*"]
  }
  statement {
    sid       = "UseFleetKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.fleet.arn]
  }
}

resource "aws_iam_role_policy" "import" {
  count  = local.uses_healthlake ? 1 : 0
  name   = "import"
  role   = aws_iam_role.import[0].id
  policy = data.aws_iam_policy_document.import.json
}
