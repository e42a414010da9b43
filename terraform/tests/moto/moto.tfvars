# Inputs of the offline apply of envs/dev against moto (scripts/check-infra.sh adds
# ami_id: the AMI its Packer build just registered in the same moto server).
# A budget alert recipient, so the e-mail subscription is created (and destroyed) too.
enable_redis        = false
segments_enabled    = false # segments load into Redis
partner_cidrs       = ["198.51.100.0/24", "203.0.113.0/24"]
operator_cidrs      = ["192.0.2.0/24"]
budget_alert_emails = ["budget-alerts@example.com"]
