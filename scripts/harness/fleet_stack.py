#!/usr/bin/env python3
"""The fleet's AWS resources on a moto server, as terraform/ creates them on AWS.

    fleet_stack.py --endpoint http://127.0.0.1:5000 create     # prints the worker's environment as JSON
    fleet_stack.py --endpoint ... upload FILE... [--prefix P]  # puts files in the intake bucket
    fleet_stack.py --endpoint ... dead-letters                 # prints what the DLQs hold (ids and reasons)

`terraform` and `module_outputs` run the terraform module itself on moto (terraform/local), for
scripts/ci/terraform_moto.py and `make fleet-demo`.

`create` makes the intake bucket (versioned, notifying the intake queue of every created object),
the work bucket, the intake and completion queues each with a dead-letter queue and a redrive
policy, and the SNS topic Textract notifies, subscribed by the completion queue. The tests of
tests/fleet.rs and `make fleet-demo` both start from it.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF = [os.path.join(ROOT, "scripts", "ci", "terraform.sh"), f"-chdir={os.path.join(ROOT, 'terraform', 'local')}"]

INTAKE_BUCKET = "paperchart-intake"
WORK_BUCKET = "paperchart-work"
TOPIC = "AmazonTextract-paperchart"
ROLE = "arn:aws:iam::123456789012:role/paperchart-textract-publish"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def terraform(work, command, *args, ok=(0,)):
    """`terraform <command>` on terraform/local with its provider cache and state under `work`:
    prints the exit code and time, stops with the output's tail when the code is not in `ok`."""
    env = dict(os.environ, TF_DATA_DIR=os.path.join(work, "terraform"), TF_INPUT="0")
    state = [] if command == "init" else [f"-state={os.path.join(work, 'terraform.tfstate')}"]
    started = time.monotonic()
    out = subprocess.run([*TF, command, "-no-color", *state, *args], env=env, capture_output=True, text=True)
    print(f"terraform {command}: exit {out.returncode} in {time.monotonic() - started:.0f} s", flush=True)
    if out.returncode not in ok:
        sys.stdout.write(out.stdout[-6000:] + out.stderr[-6000:])
        raise SystemExit(f"terraform {command} failed")
    return out


def module_outputs(work):
    """The module's outputs (terraform/local's `fleet`) of the stack applied under `work`."""
    return json.loads(terraform(work, "output", "-json").stdout)["fleet"]["value"]


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("s3", **kw), boto3.client("sqs", **kw), boto3.client("sns", **kw)


def queue_with_dlq(sqs, name, visibility, max_receives):
    dlq = sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(visibility), "RedrivePolicy": redrive, "MessageRetentionPeriod": "345600"},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def create(endpoint, visibility, max_receives):
    s3, sqs, sns = clients(endpoint)
    intake_url, intake_arn, intake_dlq = queue_with_dlq(sqs, "paperchart-intake", visibility, max_receives)
    completion_url, completion_arn, completion_dlq = queue_with_dlq(sqs, "paperchart-completion", visibility, max_receives)
    for b in (INTAKE_BUCKET, WORK_BUCKET, INTAKE_BUCKET + "-fixtures"):
        s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=INTAKE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=INTAKE_BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": intake_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=completion_arn)
    return {
        "PAPERCHART__FLEET__INTAKE_QUEUE_URL": intake_url,
        "PAPERCHART__FLEET__INTAKE_DLQ_URL": intake_dlq,
        "PAPERCHART__FLEET__COMPLETION_QUEUE_URL": completion_url,
        "PAPERCHART__FLEET__COMPLETION_DLQ_URL": completion_dlq,
        "PAPERCHART__FLEET__TEXTRACT_SNS_TOPIC_ARN": topic,
        "PAPERCHART__FLEET__TEXTRACT_ROLE_ARN": ROLE,
        "PAPERCHART__FLEET__WORK_BUCKET": WORK_BUCKET,
        "PAPERCHART__AWS__REGION": "us-east-1",
        "PAPERCHART__AWS__ENDPOINT_URL": endpoint,
        "PAPERCHART__AWS__S3_PATH_STYLE": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "INTAKE_BUCKET": INTAKE_BUCKET,
    }


def upload(endpoint, files, prefix, bucket=INTAKE_BUCKET):
    s3, _, _ = clients(endpoint)
    for f in files:
        key = prefix + os.path.basename(f)
        s3.upload_file(f, bucket, key)
        print(f"s3://{bucket}/{key}")


def dead_letters(endpoint, names=("paperchart-intake-dlq", "paperchart-completion-dlq")):
    """Queue name -> [{message_id, reason}] of what each dead-letter queue holds."""
    _, sqs, _ = clients(endpoint)
    out = {}
    for name in names:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        seen = []
        while True:
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                reason = m.get("MessageAttributes", {}).get("paperchart-reason", {}).get("StringValue", "(exceeded maxReceiveCount)")
                seen.append({"message_id": m["MessageId"], "reason": reason})
        out[name] = seen
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("--visibility", type=int, default=60, help="visibility timeout of both queues, seconds")
    c.add_argument("--max-receives", type=int, default=5, help="deliveries before SQS moves a message to its DLQ")
    u = sub.add_parser("upload")
    u.add_argument("files", nargs="+")
    u.add_argument("--prefix", default="")
    sub.add_parser("dead-letters")
    a = ap.parse_args()
    if a.cmd == "create":
        print(json.dumps(create(a.endpoint, a.visibility, a.max_receives), indent=2))
    elif a.cmd == "upload":
        upload(a.endpoint, a.files, a.prefix)
    else:
        print(json.dumps(dead_letters(a.endpoint), indent=2))


if __name__ == "__main__":
    sys.exit(main())
