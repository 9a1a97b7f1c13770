"""modules.conf: autoload off and the exact modules the rendered PBX uses.

Autoload would open IAX2, DUNDi and other listeners on 0.0.0.0 (a security and port-clash
problem); an explicit list also documents what every generated file depends on.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import document, section

# Each group says why its modules are there; the tests load exactly this list.
PJSIP_MODULES = (
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",  # chan_pjsip requires it
    "chan_pjsip.so",
    "res_pjsip_sdp_rtp.so",  # audio in SDP offers/answers
    "res_pjsip_authenticator_digest.so",  # seats and experts authenticate
    "res_pjsip_registrar.so",  # seat phones REGISTER
    "res_pjsip_endpoint_identifier_user.so",  # match endpoint by user name
    "res_pjsip_caller_id.so",  # caller number/name and privacy of SIP callers
    "res_pjsip_nat.so",  # rport/contact rewriting for phones behind NAT
    "res_pjsip_dtmf_info.so",  # phones that send DTMF as SIP INFO (工号 entry, menus)
    "res_pjsip_rfc3326.so",  # Reason header: hangup causes
)
TRUNK_MODULES = (
    "res_pjsip_endpoint_identifier_ip.so",  # the trunk is identified by its address
    "res_pjsip_outbound_authenticator_digest.so",  # calls out through the trunk
)
CORE_MODULES = (
    "res_sorcery_config.so",  # pjsip.conf objects
    "res_sorcery_memory.so",  # pjsip runtime objects
    "res_sorcery_astdb.so",  # registered contacts survive a restart
    "res_rtp_asterisk.so",
    "res_timing_timerfd.so",  # timing for playback, recording, conferences
    "pbx_config.so",  # extensions.conf
    "res_manager_devicestate.so",  # DeviceStateList and DeviceStateChange on AMI
)
MEDIA_MODULES = (
    "codec_alaw.so",  # G.711 A-law, the codec of Chinese telephony
    "codec_ulaw.so",
    "codec_a_mu.so",
    "codec_resample.so",  # conference mixing at wideband rates
    "format_wav.so",  # prompts and voicemail recordings
    "format_pcm.so",
)
BRIDGE_MODULES = (
    "bridge_simple.so",  # two-party calls
    "bridge_native_rtp.so",  # two PJSIP parties exchange media directly inside Asterisk
    "bridge_softmix.so",  # three-way calls (ConfBridge, BridgeAdd)
    "bridge_holding.so",  # holding bridges (waiting in a bridge, announcers)
)
APPLICATION_MODULES = (
    "app_dial.so",  # Dial
    "app_queue.so",  # Queue, QUEUE_MEMBER, QUEUE_MEMBER_LIST
    "app_playback.so",  # Playback
    "app_read.so",  # Read: 工号 entry, overflow choice
    "app_record.so",  # Record: voicemail
    "app_confbridge.so",  # ConfBridge: three-way calls
    "app_bridgeaddchan.so",  # BridgeAdd: three-way calls on an existing bridge
    "app_stack.so",  # Gosub, Return, hangup handlers
    "app_userevent.so",  # UserEvent: routing and voicemail events for the service
    "app_verbose.so",  # Log
)
RECORDING_MODULES = (
    "app_mixmonitor.so",  # MixMonitor: 质检 recording of answered calls in two tracks
)
FUNCTION_MODULES = (
    "func_strings.so",  # STRFTIME, FILTER, REPLACE, FIELDNUM, TOLOWER, LEN
    "func_logic.so",  # IF
    "func_channel.so",  # CHANNEL(language), CHANNEL(hangup_handler_push)
    "func_callerid.so",  # CALLERID
    "func_base64.so",  # BASE64_ENCODE of the caller name
    "func_env.so",  # FILE (voicemail metadata), STAT
    "func_dialplan.so",  # DIALPLAN_EXISTS: holidays and 调休 workdays
    "func_devstate.so",  # DEVICE_STATE: is a named seat free
)


def modules_for(config: HotlineConfig) -> tuple[str, ...]:
    """Every module the rendered configuration needs, in load-order groups."""
    trunk = TRUNK_MODULES if config.trunk is not None else ()
    recording = RECORDING_MODULES if config.recording.enabled else ()
    return (*CORE_MODULES, *PJSIP_MODULES, *trunk, *MEDIA_MODULES, *BRIDGE_MODULES,
            *APPLICATION_MODULES, *recording, *FUNCTION_MODULES)


def render_modules(config: HotlineConfig) -> bytes:
    options = [("autoload", "no"), *(("load", name) for name in modules_for(config))]
    return document("Asterisk modules: nothing is loaded unless listed here.",
                    [section("modules", options)])
