# Tern bidder AMI: Amazon Linux 2023, arm64 (Graviton: c7g, c7gn, c8g).
#
# What the image holds (see packer/README.md):
#   /usr/local/bin/bidder                       the release binary (prebuilt or built here)
#   /etc/tern/bidder.toml                       base config; user data adds /etc/tern/bidder.env
#   /etc/systemd/system/bidder.service          hardened unit, drains on stop
#   /usr/local/bin/control-plane                the control plane's release binary (same image)
#   /etc/tern/control-plane.toml                its base config; its user data adds control-plane.env
#   /etc/systemd/system/control-plane.service   hardened unit, disabled until its user data enables it
#   /etc/systemd/system/tern-host-tuning.service  IRQ affinity, CPU governor, THP at boot
#   /etc/systemd/system-generators/tern-cpu-affinity-generator  bidder CPUAffinity per host
#   /etc/sysctl.d/90-tern-latency.conf          backlog, somaxconn, busy polling, TCP buffers
#   /opt/tern/cloudwatch/                        CloudWatch agent + Prometheus scrape templates
#
# Build (current Packer): packer init . && packer build -var bidder_artifact=PATH -var control_plane_artifact=PATH .
# Validate (any Packer >= 1.6.6):
#   packer validate -var bidder_artifact=PATH -var control_plane_artifact=PATH bidder.pkr.hcl

variable "aws_region" {
  type        = string
  description = "Region the AMI is built in."
  default     = "us-east-1"
}

variable "instance_type" {
  type        = string
  description = "Graviton build instance. Building from source wants >= 4 vCPUs."
  default     = "c7g.2xlarge"
}

variable "source_ami" {
  type        = string
  description = "Pin the base AMI by id; empty means the newest AMI matching source_ami_name_filter."
  default     = ""
}

variable "source_ami_name_filter" {
  type        = string
  description = "Name filter for the Amazon Linux 2023 arm64 base AMI."
  default     = "al2023-ami-2023.*-kernel-6.*-arm64"
}

variable "source_ami_owners" {
  type        = list(string)
  description = "Owners searched by source_ami_name_filter."
  default     = ["amazon"]
}

variable "ami_name_prefix" {
  type        = string
  description = "AMI name prefix; a UTC timestamp is appended."
  default     = "tern-bidder"
}

variable "bidder_artifact" {
  type        = string
  description = "Local path to either a prebuilt aarch64 `bidder` ELF binary, or a source tarball of this repository (`git archive --format=tar.gz HEAD`) that is built with cargo on the Graviton build instance. The install script tells them apart by content."
}

variable "control_plane_artifact" {
  type        = string
  description = "Local path to either a prebuilt aarch64 `control-plane` ELF binary, or a source tarball of this repository built with cargo (`-p control-plane`) on the Graviton build instance. Usually the same tarball as bidder_artifact: both packages are then built in one tree, the second reusing the first one's dependencies. Required, never derived from bidder_artifact: a prebuilt bidder must not end up installed as the control plane."
}

variable "rust_toolchain" {
  type        = string
  description = "rustup toolchain used when bidder_artifact or control_plane_artifact is a source tarball."
  default     = "stable"
}

variable "subnet_id" {
  type        = string
  description = "Subnet for the build instance; empty lets Packer use the default VPC."
  default     = ""
}

variable "ssh_source_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to SSH into the temporary build instance (its key and security group are deleted after the build). Narrow this to your build host."
  default     = ["0.0.0.0/0"]
}

variable "ec2_endpoint" {
  type        = string
  description = "Custom EC2 endpoint. Only for the offline check against moto; leave empty for AWS."
  default     = ""
}

variable "manifest_path" {
  type        = string
  description = "Where the manifest post-processor records the AMI id (read by terraform/README.md's steps)."
  default     = "manifest.json"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for the AMI and its snapshots."
  default     = {}
}

locals {
  timestamp = formatdate("YYYYMMDD-hhmmss", timestamp())
  ami_tags = merge(var.tags, {
    Name        = "${var.ami_name_prefix}-${local.timestamp}"
    Application = "tern"
    Component   = "bidder"
    OS          = "al2023"
    Arch        = "arm64"
  })
}

source "amazon-ebs" "bidder" {
  region                 = var.aws_region
  custom_endpoint_ec2    = var.ec2_endpoint
  skip_region_validation = var.ec2_endpoint != ""

  instance_type = var.instance_type
  subnet_id     = var.subnet_id

  source_ami_filter {
    filters = merge(
      {
        architecture        = "arm64"
        root-device-type    = "ebs"
        virtualization-type = "hvm"
      },
      var.source_ami != "" ? { image-id = var.source_ami } : { name = var.source_ami_name_filter },
    )
    owners      = var.source_ami_owners
    most_recent = true
  }

  ami_name        = "${var.ami_name_prefix}-${local.timestamp}"
  ami_description = "Tern OpenRTB bidder and control plane on Amazon Linux 2023 (arm64, Graviton)"
  ena_support     = true
  encrypt_boot    = true

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 16
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }

  # IMDSv2 is enforced where instances run: the fleet's launch template sets
  # http_tokens = "required". (`metadata_options`/`imds_support` here need Packer
  # >= 1.7's amazon plugin, and the template must stay valid on 1.6.6.)

  ssh_username                          = "ec2-user"
  temporary_security_group_source_cidrs = var.ssh_source_cidrs

  tags            = local.ami_tags
  snapshot_tags   = local.ami_tags
  run_tags        = { Name = "tern-bidder-packer-build", Application = "tern" }
  run_volume_tags = { Name = "tern-bidder-packer-build", Application = "tern" }
}

build {
  description = "Tern bidder AMI"

  sources = ["source.amazon-ebs.bidder"]

  # Offline check only: the same source against moto with no communicator, so the
  # EC2 half of the build (find base AMI, launch, stop, create image, clean up) runs
  # without an instance to provision. `packer build -only=amazon-ebs.moto ...`
  source "source.amazon-ebs.bidder" {
    name         = "moto"
    communicator = "none"
  }

  provisioner "shell" {
    except = ["amazon-ebs.moto"]
    inline = ["sudo install -d -m 0755 -o ec2-user /tmp/tern-image"]
  }

  # Uploads land as /tmp/tern-image/files and /tmp/tern-image/scripts (no trailing
  # slash on the source: the directory itself is copied).
  provisioner "file" {
    except      = ["amazon-ebs.moto"]
    source      = "${path.root}/files"
    destination = "/tmp/tern-image"
  }

  provisioner "file" {
    except      = ["amazon-ebs.moto"]
    source      = "${path.root}/scripts"
    destination = "/tmp/tern-image"
  }

  provisioner "file" {
    except      = ["amazon-ebs.moto"]
    source      = var.bidder_artifact
    destination = "/tmp/tern-image/bidder-artifact"
  }

  provisioner "file" {
    except      = ["amazon-ebs.moto"]
    source      = var.control_plane_artifact
    destination = "/tmp/tern-image/control-plane-artifact"
  }

  provisioner "shell" {
    except          = ["amazon-ebs.moto"]
    execute_command = "sudo -E env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = [
      "TERN_IMAGE_DIR=/tmp/tern-image",
      "TERN_RUST_TOOLCHAIN=${var.rust_toolchain}",
    ]
    scripts = [
      "${path.root}/scripts/10-packages.sh",
      "${path.root}/scripts/20-user.sh",
      "${path.root}/scripts/30-bidder.sh",
      "${path.root}/scripts/35-control-plane.sh",
      "${path.root}/scripts/40-tuning.sh",
      "${path.root}/scripts/50-cloudwatch-agent.sh",
      "${path.root}/scripts/90-cleanup.sh",
    ]
  }

  post-processor "manifest" {
    output     = var.manifest_path
    strip_path = true
  }
}
