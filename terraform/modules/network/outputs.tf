output "vpc_id" {
  description = "VPC id."
  value       = try(aws_vpc.this.id, null)
}

output "vpc_cidr_block" {
  description = "VPC IPv4 CIDR."
  value       = try(aws_vpc.this.cidr_block, null)
}

output "private_subnet_ids" {
  description = "Private subnet ids, one per AZ, in the order of var.azs."
  value       = try(aws_subnet.private[*].id, [])
}

output "public_subnet_ids" {
  description = "Public subnet ids (load balancers, NAT), one per AZ."
  value       = try(aws_subnet.public[*].id, [])
}

output "private_route_table_ids" {
  description = "Route tables of the private subnets."
  value       = try(aws_route_table.private[*].id, [])
}

output "nat_gateway_ids" {
  description = "NAT gateway ids (empty when nat_gateway_mode = none)."
  value       = try(aws_nat_gateway.this[*].id, [])
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = try(aws_security_group.endpoints.id, null)
}

output "gateway_endpoint_ids" {
  description = "Gateway endpoint ids by service (dynamodb, s3)."
  value       = try({ for k, v in aws_vpc_endpoint.gateway : k => v.id }, {})
}

output "interface_endpoint_ids" {
  description = "Interface endpoint ids by service."
  value       = try({ for k, v in aws_vpc_endpoint.interface : k => v.id }, {})
}

output "flow_log_group_name" {
  description = "CloudWatch log group holding the VPC flow logs."
  value       = try(aws_cloudwatch_log_group.flow_logs.name, null)
}
