"""Addresses Asterisk binds to and permits: it needs literal IPs where hotline.conf allows names."""

from __future__ import annotations

import ipaddress

from ivr.errors import RenderError

LOCALHOST_NAMES = {"localhost": "127.0.0.1", "ip6-localhost": "::1"}


def bind_ip(value: str, what: str) -> str:
    """A literal IP for a bind address (Asterisk does not resolve names there)."""
    value = LOCALHOST_NAMES.get(value.lower(), value)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise RenderError(f"{what} = “{value}”：Asterisk 只能绑定 IP 地址，不能用主机名；"
                          "请直接写地址") from None


def is_loopback(value: str) -> bool:
    return ipaddress.ip_address(value).is_loopback


def is_unspecified(value: str) -> bool:
    return ipaddress.ip_address(value).is_unspecified


def host_acl(value: str) -> str:
    """`address/mask` for one host, as manager.conf's permit wants it."""
    address = ipaddress.ip_address(value)
    return f"{address}/{address.max_prefixlen}"
