"""pjsip.conf: the UDP transport, one endpoint+auth+aor per seat and per expert phone, the trunk.

Endpoint names are the extensions (1001, 2001, ...): the queue's state interface and
Dial() both say PJSIP/<extension>. Citizens' endpoints are not rendered: in production they
arrive through the trunk; tests and the sandbox add theirs in LOCAL_INCLUDE with context
hotline-citizens.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from hotline.config import HotlineConfig
from ivr.addresses import bind_ip, is_unspecified
from ivr.asterisk_conf import Option, document, section
from ivr.names import (
    CITIZENS_CONTEXT,
    EXPERTS_CONTEXT,
    SEATS_CONTEXT,
    TRANSPORT_NAME,
    TRUNK_IN_CONTEXT,
    TRUNK_NAME,
)

PHONE_TEMPLATE = "hotline-phone"
CODECS = "alaw,ulaw"  # G.711 A-law first: the codec of Chinese networks
LANGUAGE = "zh"
QUALIFY_SECONDS = 30  # seat phones are checked this often; a dead phone turns UNAVAILABLE
TRUNK_QUALIFY_SECONDS = 60
LOCAL_INCLUDE = "pjsip_local.conf"  # optional, not rendered: extra endpoints (test citizens)
USER_AGENT = "hotline-12345"


def _host_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ipaddress.ip_address(address).version == 6 else \
        f"{address}:{port}"


def _media_options(config: HotlineConfig) -> list[Option]:
    """Keep RTP on the SIP address (loopback in tests) instead of every interface."""
    address = bind_ip(config.sip.bind, "[sip] bind")
    if is_unspecified(address):
        return []
    return [("media_address", address), ("bind_rtp_to_media_address", "yes")]


def _phone_template(config: HotlineConfig) -> str:
    options: list[Option] = [
        ("type", "endpoint"),
        ("transport", TRANSPORT_NAME),
        ("disallow", "all"),
        ("allow", CODECS),
        ("language", LANGUAGE),
        ("direct_media", "no"),  # media stays on the PBX: recording, conferences, NAT
        ("rtp_symmetric", "yes"),
        ("force_rport", "yes"),
        ("rewrite_contact", "yes"),
        ("dtmf_mode", "rfc4733"),
        ("device_state_busy_at", 1),  # one call makes the seat busy for the queue
        *_media_options(config),
    ]
    return section(PHONE_TEMPLATE, options, is_template=True,
                   comment="Common settings of seat and expert phones.")


def _phone(name: str, context: str, callerid: str, password: str, label: str) -> list[str]:
    """Endpoint, auth and aor of one phone, all named after its extension."""
    endpoint = section(name, [("context", context), ("auth", name), ("aors", name),
                              ("callerid", callerid)], template=PHONE_TEMPLATE, comment=label)
    auth = section(name, [("type", "auth"), ("auth_type", "userpass"), ("username", name),
                          ("password", password)])
    aor = section(name, [("type", "aor"), ("max_contacts", 1), ("remove_existing", "yes"),
                         ("qualify_frequency", QUALIFY_SECONDS)])
    return [endpoint, auth, aor]


def _trunk(config: HotlineConfig) -> list[str]:
    trunk = config.trunk
    if trunk is None:
        return []
    endpoint: list[Option] = [
        ("type", "endpoint"), ("transport", TRANSPORT_NAME), ("context", TRUNK_IN_CONTEXT),
        ("disallow", "all"), ("allow", CODECS), ("language", LANGUAGE), ("aors", TRUNK_NAME),
        ("direct_media", "no"), ("rtp_symmetric", "yes"), ("dtmf_mode", "rfc4733"),
        *_media_options(config),
    ]
    blocks = []
    if trunk.username:
        endpoint += [("outbound_auth", f"{TRUNK_NAME}-auth"), ("from_user", trunk.username)]
        blocks.append(section(f"{TRUNK_NAME}-auth", [
            ("type", "auth"), ("auth_type", "userpass"), ("username", trunk.username),
            ("password", trunk.password)]))
    return [
        section(TRUNK_NAME, endpoint, comment="Outside line: no registration, identified by "
                                              "its address."),
        section(TRUNK_NAME, [("type", "aor"), ("contact", f"sip:{trunk.host}:{trunk.port}"),
                             ("qualify_frequency", TRUNK_QUALIFY_SECONDS)]),
        section(TRUNK_NAME, [("type", "identify"), ("endpoint", TRUNK_NAME),
                             ("match", trunk.host)]),
        *blocks,
    ]


def render_pjsip(config: HotlineConfig) -> bytes:
    address = bind_ip(config.sip.bind, "[sip] bind")
    blocks: list[str] = [
        section("global", [("type", "global"), ("user_agent", USER_AGENT)]),
        section(TRANSPORT_NAME, [("type", "transport"), ("protocol", "udp"),
                                 ("bind", _host_port(address, config.sip.port))]),
        _phone_template(config),
    ]
    for seat in sorted(config.seats, key=lambda s: s.extension):
        label = f"Seat 工号 {seat.seat_id}" + (f" ({seat.name})" if seat.name else "")
        name = seat.name or f"坐席{seat.seat_id}"
        blocks += _phone(seat.extension, SEATS_CONTEXT, f'"{name}" <{seat.extension}>',
                         seat.password, label)
    experts = sorted((e for e in config.experts if e.extension), key=lambda e: e.extension or "")
    for expert in experts:
        assert expert.extension is not None
        blocks += _phone(expert.extension, EXPERTS_CONTEXT,
                         f'"{expert.name}" <{expert.extension}>', expert.password,
                         f"Expert {expert.name}, {expert.department}")
    blocks += _trunk(config)
    blocks.append(f"; Extra endpoints (test citizens with context={CITIZENS_CONTEXT}), "
                  "if the file exists.\n"
                  f"#tryinclude {LOCAL_INCLUDE}\n")
    return document("PJSIP: transport, seat and expert phones, trunk.", blocks)


def endpoint_names(config: HotlineConfig) -> Sequence[str]:
    """Every endpoint pjsip.conf defines, for tests and diagnostics."""
    names = [s.extension for s in config.seats]
    names += [e.extension for e in config.experts if e.extension]
    if config.trunk is not None:
        names.append(TRUNK_NAME)
    return sorted(names)
