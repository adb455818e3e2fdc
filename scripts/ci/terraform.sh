#!/usr/bin/env bash
# Runs terraform with the AWS provider from the machine's filesystem mirror when there is one
# (the build image ships hashicorp/aws in a mirror and no network to the registry): writes a CLI
# configuration naming that mirror to .cache/terraform.tfrc and points TF_CLI_CONFIG_FILE at it.
# Without a mirror, terraform downloads providers as usual.
#   scripts/ci/terraform.sh -chdir=terraform init
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v terraform >/dev/null || {
    echo "terraform not found: install Terraform 1.5 or newer (https://developer.hashicorp.com/terraform/install)" >&2
    exit 1
}
rc="$root/.cache/terraform.tfrc"
if [ ! -s "$rc" ]; then
    mkdir -p "$root/.cache"
    provider="$(find / -xdev \( -path /proc -o -path /sys -o -path "$root" \) -prune -o \
        -name 'terraform-provider-aws_*' -path '*registry.terraform.io/hashicorp/aws/*' -print -quit 2>/dev/null || true)"
    if [ -n "$provider" ]; then
        mirror="${provider%%/registry.terraform.io/*}"
        cat > "$rc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
TFRC
    else
        echo "# no filesystem mirror of hashicorp/aws found: providers download from the registry" > "$rc"
    fi
fi
export TF_CLI_CONFIG_FILE="$rc"
export TF_IN_AUTOMATION=1
exec terraform "$@"
