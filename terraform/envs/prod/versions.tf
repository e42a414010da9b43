terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }

  # Partial configuration: terraform init -backend-config=backend.hcl (see README).
  backend "s3" {}
}
