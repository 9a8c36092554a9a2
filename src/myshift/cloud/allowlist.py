"""The RDS instance's firewall: its security groups and their ingress rules (EC2 API).

Plain values in and out; ``workflows.access`` decides which rules are myshift's
and which to add or remove.  Each call names the IAM permission it needs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from myshift.cloud.aws import client, region_for
from myshift.cloud.calls import aws_call
from myshift.config.settings import AwsSettings, EnvConfig
from myshift.errors import UsageError

DEFAULT_PORT = 3306


@dataclass(frozen=True)
class Rule:
    """One ingress rule of a security group (an address range, not a group reference)."""

    group_id: str
    rule_id: str
    protocol: str  # "tcp", "-1" (all traffic)…
    from_port: int
    to_port: int
    cidr: str
    description: str
    # Its tags (myshift's holds: which running commands still use it).
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)

    def admits(self, ip: str, port: int) -> bool:
        """Whether this rule lets ``ip`` reach TCP ``port``."""
        if self.protocol not in ("-1", "tcp", "6"):
            return False
        if self.protocol != "-1" and not self.from_port <= port <= self.to_port:
            return False
        try:
            return ipaddress.ip_address(ip) in ipaddress.ip_network(self.cidr, strict=False)
        except ValueError:
            return False


@dataclass(frozen=True)
class Firewall:
    """Where an environment's server is opened: its security groups and its port."""

    group_ids: tuple[str, ...]
    port: int


def firewall_of(aws: AwsSettings, env: EnvConfig) -> Firewall:
    """``env``'s security group (``security_group``, else those of ``rds_instance``) and port."""
    if env.security_group is None and env.rds_instance is None:
        raise UsageError(
            f"Environment {env.name!r} names no security group to open.",
            f"Set security_group (sg-…) or rds_instance in [env.{env.name}] of myshift.toml.",
        )
    instance: dict[str, Any] = {}
    if env.rds_instance is not None and (env.security_group is None or env.port is None):
        instance = describe_instance(aws, env, env.rds_instance)
    if env.security_group is not None:
        groups: tuple[str, ...] = (env.security_group,)
    else:
        groups = tuple(
            g["VpcSecurityGroupId"]
            for g in instance.get("VpcSecurityGroups", [])
            if g.get("Status", "active") == "active"
        )
        if not groups:
            raise UsageError(
                f"The RDS instance {env.rds_instance!r} has no VPC security group.",
                f"Set security_group in [env.{env.name}] of myshift.toml.",
            )
    port = env.port or int(instance.get("Endpoint", {}).get("Port") or DEFAULT_PORT)
    return Firewall(groups, port)


def describe_instance(aws: AwsSettings, env: EnvConfig, instance_id: str) -> dict[str, Any]:
    """The DescribeDBInstances entry of ``instance_id``."""
    rds = client("rds", aws, env)
    found = aws_call(
        f"describe the RDS instance {instance_id!r}",
        "rds:DescribeDBInstances",
        rds.describe_db_instances,
        DBInstanceIdentifier=instance_id,
        missing=(
            f"The RDS instance {instance_id!r} was not found in {region_for(aws, env)}.",
            f"Fix rds_instance (or aws_region) in [env.{env.name}] of myshift.toml.",
        ),
    )
    return dict(found["DBInstances"][0])


def ingress_rules(aws: AwsSettings, env: EnvConfig, group_id: str) -> list[Rule]:
    """The address-range ingress rules of ``group_id``."""
    ec2 = client("ec2", aws, env)
    rules: list[Rule] = []
    token: dict[str, Any] = {}
    while True:
        page = aws_call(
            f"list the rules of security group {group_id}",
            "ec2:DescribeSecurityGroupRules",
            ec2.describe_security_group_rules,
            Filters=[{"Name": "group-id", "Values": [group_id]}],
            **token,
        )
        rules += [r for r in map(_rule, page.get("SecurityGroupRules", [])) if r is not None]
        if not page.get("NextToken"):
            return rules
        token = {"NextToken": page["NextToken"]}


def _rule(r: Mapping[str, Any]) -> Rule | None:
    cidr = r.get("CidrIpv4") or r.get("CidrIpv6")
    if r.get("IsEgress") or not cidr:
        return None
    return Rule(
        group_id=r["GroupId"],
        rule_id=r["SecurityGroupRuleId"],
        protocol=str(r.get("IpProtocol", "")),
        from_port=int(r.get("FromPort", -1)),
        to_port=int(r.get("ToPort", -1)),
        cidr=cidr,
        description=r.get("Description") or "",
        tags={t["Key"]: t.get("Value", "") for t in r.get("Tags") or []},
    )


def current(aws: AwsSettings, env: EnvConfig, rule: Rule, *, ec2: Any = None) -> Rule | None:
    """``rule`` as it is now (its description and tags), or None when it is gone."""
    from botocore.exceptions import ClientError

    ec2 = ec2 or client("ec2", aws, env)
    try:
        found = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule.rule_id])
    except ClientError as exc:
        if "NotFound" in str(exc.response.get("Error", {}).get("Code", "")):
            return None
        aws_call(
            f"read rule {rule.rule_id} of security group {rule.group_id}",
            "ec2:DescribeSecurityGroupRules",
            _reraise,
            exc=exc,
        )
        raise  # pragma: no cover - aws_call always raises here
    rules = [r for r in map(_rule, found.get("SecurityGroupRules", [])) if r is not None]
    return rules[0] if rules else None


def tag_rule(
    aws: AwsSettings, env: EnvConfig, rule: Rule, tags: Mapping[str, str], *, ec2: Any = None
) -> None:
    """Set ``tags`` on ``rule`` (myshift's holds)."""
    ec2 = ec2 or client("ec2", aws, env)
    aws_call(
        f"tag rule {rule.rule_id} of security group {rule.group_id}",
        "ec2:CreateTags",
        ec2.create_tags,
        Resources=[rule.rule_id],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def untag_rule(aws: AwsSettings, env: EnvConfig, rule: Rule, key: str) -> None:
    """Remove the tag ``key`` from ``rule`` (a rule already gone is not an error)."""
    from botocore.exceptions import ClientError

    ec2 = client("ec2", aws, env)
    try:
        ec2.delete_tags(Resources=[rule.rule_id], Tags=[{"Key": key}])
    except ClientError as exc:
        if "NotFound" in str(exc.response.get("Error", {}).get("Code", "")):
            return
        aws_call(
            f"untag rule {rule.rule_id} of security group {rule.group_id}",
            "ec2:DeleteTags",
            _reraise,
            exc=exc,
        )


def _permission(cidr: str, port: int, description: str) -> dict[str, Any]:
    if ipaddress.ip_network(cidr).version == 6:
        ranges: dict[str, Any] = {"Ipv6Ranges": [{"CidrIpv6": cidr, "Description": description}]}
    else:
        ranges = {"IpRanges": [{"CidrIp": cidr, "Description": description}]}
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **ranges}


def add_rule(
    aws: AwsSettings,
    env: EnvConfig,
    group_id: str,
    cidr: str,
    port: int,
    description: str,
    tags: Mapping[str, str] | None = None,
) -> Rule | None:
    """Allow ``cidr`` to TCP ``port``, tagged ``tags``; None when the same rule already exists."""
    from botocore.exceptions import ClientError

    ec2 = client("ec2", aws, env)
    extra: dict[str, Any] = {}
    if tags:
        pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
        extra["TagSpecifications"] = [{"ResourceType": "security-group-rule", "Tags": pairs}]
    try:
        answer = ec2.authorize_security_group_ingress(
            GroupId=group_id, IpPermissions=[_permission(cidr, port, description)], **extra
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidPermission.Duplicate":
            return None
        aws_call(
            f"add a rule to security group {group_id}",
            "ec2:AuthorizeSecurityGroupIngress (and ec2:CreateTags)",
            _reraise,
            exc=exc,
        )
        raise  # pragma: no cover - aws_call always raises here
    made = answer.get("SecurityGroupRules") or []
    if made:
        rule_id = made[0]["SecurityGroupRuleId"]
        return Rule(group_id, rule_id, "tcp", port, port, cidr, description, dict(tags or {}))
    # An answer without the new rule's id: find it by what it allows.
    for rule in ingress_rules(aws, env, group_id):
        if (rule.cidr, rule.from_port, rule.description) == (cidr, port, description):
            return rule
    raise UsageError(
        f"The rule just added to {group_id} for {cidr} cannot be found.",
        "Check the security group in the AWS console and remove the rule by hand.",
    )


def _reraise(exc: BaseException) -> None:
    raise exc


def remove_rule(aws: AwsSettings, env: EnvConfig, rule: Rule) -> None:
    """Remove ``rule`` (by its id; a rule already gone is not an error)."""
    from botocore.exceptions import ClientError

    ec2 = client("ec2", aws, env)
    try:
        ec2.revoke_security_group_ingress(
            GroupId=rule.group_id, SecurityGroupRuleIds=[rule.rule_id]
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in (
            "InvalidPermission.NotFound",
            "InvalidSecurityGroupRuleId.NotFound",
        ):
            return
        aws_call(
            f"remove rule {rule.rule_id} from security group {rule.group_id}",
            "ec2:RevokeSecurityGroupIngress",
            _reraise,
            exc=exc,
        )


def set_description(
    aws: AwsSettings, env: EnvConfig, rule: Rule, description: str, *, ec2: Any = None
) -> None:
    """Rewrite ``rule``'s description (a renewed expiry); ``ec2``: a client to reuse."""
    ec2 = ec2 or client("ec2", aws, env)
    aws_call(
        f"renew rule {rule.rule_id} of security group {rule.group_id}",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        ec2.update_security_group_rule_descriptions_ingress,
        GroupId=rule.group_id,
        IpPermissions=[_permission(rule.cidr, rule.from_port, description)],
    )
