# Plugin requirements for Packer >= 1.7 (`packer init .`).
#
# Kept apart from bidder.pkr.hcl on purpose: Packer 1.6 (Debian's package, used by
# scripts/check-infra.sh) does not know `required_plugins`, so the checks validate
# bidder.pkr.hcl on its own, while operators on current Packer run `packer init .`
# and `packer build .` in this directory, which loads both files.
packer {
  required_version = ">= 1.6.6"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.0, < 2.0.0"
    }
  }
}
