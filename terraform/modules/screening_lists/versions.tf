terraform {
  # 1.9: validation blocks may refer to other variables; 1.7: mock_provider in tests.
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }
}
