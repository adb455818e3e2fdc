#!/usr/bin/env python3
"""Applies the terraform module (through terraform/local) to a moto server on 127.0.0.1, checks
what it created through the AWS API, and destroys it.

Checks: a second plan shows no change; the buckets are SSE-KMS with the fleet key and a bucket
key, versioned, public access blocked, TLS-only by policy, with lifecycle rules; an upload to the
intake bucket over plain HTTP is refused (moto enforces the bucket policy) and the bucket notifies
the intake queue of created objects; each work queue redrives to its own dead-letter queue,
which keeps messages longer and accepts only that queue; every queue and the topic use the key;
the topic is named AmazonTextract-*, publishable only by the Textract role and delivers to the
completion queue; the Textract role is trusted by textract.amazonaws.com for this account only
and may publish to that topic only; the task roles' policies pass the Textract role to Textract
only, name no resource "*" beyond the actions without resource-level permissions, and grant no
wildcard actions. After destroy, nothing is left.

    .cache/py-tools/bin/python -m scripts.ci.terraform_moto            (make deploy-check runs it)
    .cache/py-tools/bin/python -m scripts.ci.terraform_moto --keep     leave moto and the stack up
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import boto3

from scripts.harness.fleet_stack import ROOT, free_port, module_outputs, terraform  # noqa: E402

REGION = "us-east-1"
# Actions without resource-level permissions: the only ones allowed on "*".
STAR_OK = {"textract:StartDocumentAnalysis", "textract:GetDocumentAnalysis", "cloudwatch:GetMetricData",
           "ecr:GetAuthorizationToken"}

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def statements(doc):
    doc = json.loads(doc) if isinstance(doc, str) else doc
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(v):
    return v if isinstance(v, list) else [v]


def check_buckets(s3, outputs, key_arn):
    for name in (outputs["intake_bucket"], outputs["work_bucket"]):
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        sse = rule["ApplyServerSideEncryptionByDefault"]
        check(sse["SSEAlgorithm"] == "aws:kms" and sse.get("KMSMasterKeyID") == key_arn
              and rule.get("BucketKeyEnabled") is True, f"{name}: SSE-KMS with the fleet key and a bucket key")
        pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        check(all(pab.values()) and len(pab) == 4, f"{name}: public access blocked")
        check(s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled", f"{name}: versioned")
        policy = statements(s3.get_bucket_policy(Bucket=name)["Policy"])
        check(any(st["Effect"] == "Deny" and "false" in json.dumps(st.get("Condition", {}).get("Bool", {}))
                  and "aws:SecureTransport" in json.dumps(st["Condition"]) for st in policy),
              f"{name}: policy denies requests without TLS")
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        check(any(r.get("AbortIncompleteMultipartUpload") for r in rules), f"{name}: lifecycle rules")


def check_queues(sqs, queues, key_arn, visibility):
    attrs = {role: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
             for role, url in queues.items()}
    for role, a in attrs.items():
        check(a.get("KmsMasterKeyId") == key_arn, f"queue {role}: encrypted with the fleet key")
    for role in ("intake", "completion"):
        redrive = json.loads(attrs[role]["RedrivePolicy"])
        dlq = attrs[f"{role}_dlq"]
        check(redrive["deadLetterTargetArn"] == dlq["QueueArn"] and int(redrive["maxReceiveCount"]) >= 1,
              f"queue {role}: redrives to {role}_dlq after {redrive['maxReceiveCount']} receives")
        check(int(dlq["MessageRetentionPeriod"]) > int(attrs[role]["MessageRetentionPeriod"]),
              f"queue {role}_dlq: keeps messages longer than {role}")
        allow = json.loads(dlq.get("RedriveAllowPolicy", "{}"))
        check(allow.get("redrivePermission") == "byQueue" and allow.get("sourceQueueArns") == [attrs[role]["QueueArn"]],
              f"queue {role}_dlq: accepts dead letters from {role} only")
        check(int(attrs[role]["VisibilityTimeout"]) == visibility,
              f"queue {role}: visibility timeout {visibility} s, the worker's lease")
    return attrs


def check_topic(sns, iam, topic_arn, key_arn, completion_arn, textract_role_arn):
    check(topic_arn.split(":")[-1].startswith("AmazonTextract"), "topic name starts with AmazonTextract")
    a = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    check(a.get("KmsMasterKeyId") == key_arn, "topic: encrypted with the fleet key")
    textract_role = iam.get_role(RoleName=textract_role_arn.split("/")[-1])["Role"]
    publishers = [st for st in statements(a["Policy"]) if "sns:Publish" in as_list(st["Action"])]
    check(len(publishers) == 1 and as_list(publishers[0]["Principal"]["AWS"]) == [textract_role["Arn"]],
          "topic policy: only the Textract role publishes")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    check([(s["Protocol"], s["Endpoint"]) for s in subs] == [("sqs", completion_arn)],
          "topic delivers to the completion queue")
    trust = statements(textract_role["AssumeRolePolicyDocument"])
    check(len(trust) == 1 and trust[0]["Principal"] == {"Service": "textract.amazonaws.com"}
          and "aws:SourceAccount" in json.dumps(trust[0]["Condition"])
          and "aws:SourceArn" in json.dumps(trust[0]["Condition"]),
          "Textract role: trusted by textract.amazonaws.com with SourceAccount and SourceArn conditions")
    name = textract_role["RoleName"]
    grants = [st for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
              for st in statements(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])]
    sns_grants = [st for st in grants if any(a.startswith("sns:") for a in as_list(st["Action"]))]
    check(len(sns_grants) == 1 and as_list(sns_grants[0]["Action"]) == ["sns:Publish"]
          and as_list(sns_grants[0]["Resource"]) == [topic_arn], "Textract role: sns:Publish on that topic only")
    return textract_role["Arn"]


def check_task_roles(iam, roles, textract_role_arn):
    for who in ("worker", "scheduler"):
        name = roles[who].split("/")[-1]
        grants = [st for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
                  for st in statements(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])]
        check(iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == [],
              f"{who} role: no managed policies")
        actions = [a for st in grants for a in as_list(st["Action"])]
        check(actions and not any("*" in a for a in actions), f"{who} role: no wildcard actions")
        star = {a for st in grants if "*" in as_list(st["Resource"]) for a in as_list(st["Action"])}
        check(star <= STAR_OK, f"{who} role: '*' only for actions without resource-level permissions ({sorted(star)})")
        passes = [st for st in grants if "iam:PassRole" in as_list(st["Action"])]
        if who == "worker":
            check(len(passes) == 1 and as_list(passes[0]["Resource"]) == [textract_role_arn]
                  and passes[0]["Condition"]["StringEquals"]["iam:PassedToService"] == "textract.amazonaws.com",
                  "worker role: iam:PassRole on the Textract role, to Textract only")
        else:
            check(passes == [], "scheduler role: no iam:PassRole without a HealthLake datastore")


def check_notification(s3, bucket, queue_arn):
    conf = s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations", [])
    check(len(conf) >= 1 and all(c["QueueArn"] == queue_arn and c["Events"] == ["s3:ObjectCreated:*"] for c in conf),
          "intake bucket notifies the intake queue of every created object")


def check_tls_enforced(s3, bucket):
    """moto evaluates bucket policies: the TLS-only policy refuses this plain-HTTP upload."""
    try:
        s3.put_object(Bucket=bucket, Key="checks/plain-http.pdf", Body=b"%PDF-1.4\n")
        refused = False
    except s3.exceptions.ClientError as e:
        refused = e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    check(refused, "a plain-HTTP upload is refused by the TLS-only bucket policy")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="leave moto and the applied stack running")
    a = ap.parse_args()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    work = tempfile.mkdtemp(prefix="paperchart-tf-")
    moto = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "harness", "moto_server.py"), "--port", str(port)],
                            stdout=open(os.path.join(work, "moto.log"), "w"), stderr=subprocess.STDOUT)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    tfvars = ["-var", f"endpoint={endpoint}", "-var", "name=pctf", "-var", "deny_insecure_transport=true"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        terraform(work, "init", "-backend=false")
        terraform(work, "apply", "-auto-approve", *tfvars)
        plan = terraform(work, "plan", "-detailed-exitcode", *tfvars, ok=(0, 2))
        check(plan.returncode == 0, "a second plan shows no change")
        if plan.returncode != 0:
            print("\n".join(l for l in plan.stdout.splitlines() if "#" in l or "~" in l)[:4000])
        outputs = module_outputs(work)
        key_arn = outputs["kms_key_arn"]
        kms = boto3.client("kms", endpoint_url=endpoint, region_name=REGION)
        check(kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"], "KMS key rotates")
        check_buckets(s3, outputs, key_arn)
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
        attrs = check_queues(sqs, outputs["queues"], key_arn, 30)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION)
        sns = boto3.client("sns", endpoint_url=endpoint, region_name=REGION)
        textract_role = check_topic(sns, iam, outputs["textract_topic_arn"], key_arn, attrs["completion"]["QueueArn"],
                                    outputs["task_roles"]["textract"])
        check_task_roles(iam, outputs["task_roles"], textract_role)
        check_notification(s3, outputs["intake_bucket"], attrs["intake"]["QueueArn"])
        check_tls_enforced(s3, outputs["intake_bucket"])
        env_out = outputs["environment"]
        check(env_out["PAPERCHART__FLEET__INTAKE_QUEUE_URL"] == outputs["queues"]["intake"]
              and env_out["PAPERCHART__FLEET__TEXTRACT_ROLE_ARN"] == textract_role,
              "output environment: the worker's settings name the created resources")
        if a.keep:
            print(f"moto at {endpoint} (pid {moto.pid}), terraform state in {work}")
            return 1 if failures else 0
        terraform(work, "destroy", "-auto-approve", *tfvars)
        left = [b["Name"] for b in s3.list_buckets()["Buckets"]] + sqs.list_queues().get("QueueUrls", []) \
            + [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("pctf-")]
        check(left == [], f"destroy leaves nothing behind {left}")
    finally:  # a failed run leaves its stack in the moto that goes with it
        if not a.keep:
            moto.terminate()
            moto.wait(10)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("terraform module on moto: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
