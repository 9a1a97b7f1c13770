"""render_pbx: the whole Asterisk setup of the hall, from one HotlineConfig, in one directory.

Output (all generated, all deterministic): the Asterisk .conf files a deployment copies into
/etc/asterisk, sounds/hotline/*.wav for Asterisk's sounds directory, and hotline-pbx.json
(how the sandbox and the service reach this PBX).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hotline.config import HotlineConfig
from ivr.confbridge import render_confbridge
from ivr.core_files import core_files
from ivr.dialplan import render_dialplan
from ivr.indications import render_indications
from ivr.logger import render_logger
from ivr.manager import render_manager
from ivr.manifest import MANIFEST_NAME, render_manifest
from ivr.modules import render_modules
from ivr.output import GeneratedFile, WriteReport, write_tree
from ivr.pjsip import render_pjsip
from ivr.prompts import render_prompts
from ivr.queues import render_queues
from ivr.rtp import render_rtp

# File name -> (renderer, holds secrets).
CONF_FILES: dict[str, tuple[Callable[[HotlineConfig], bytes], bool]] = {
    "modules.conf": (render_modules, False),
    "manager.conf": (render_manager, True),
    "pjsip.conf": (render_pjsip, True),
    "rtp.conf": (render_rtp, False),
    "queues.conf": (render_queues, False),
    "extensions.conf": (render_dialplan, False),
    "confbridge.conf": (render_confbridge, False),
    "indications.conf": (render_indications, False),
    "logger.conf": (render_logger, False),
    MANIFEST_NAME: (render_manifest, True),
}


def rendered_files(config: HotlineConfig, prompt_cache: Path | None = None,
                   ) -> list[GeneratedFile]:
    """Everything a render writes, in memory (renders fully before anything is written)."""
    files = [GeneratedFile(name, render(config), secret)
             for name, (render, secret) in sorted(CONF_FILES.items())]
    files += [GeneratedFile(name, content) for name, content in sorted(core_files(config).items())]
    return files + render_prompts(config, prompt_cache)


def render_pbx(config: HotlineConfig, out_dir: Path,
               prompt_cache: Path | None = None) -> WriteReport:
    """Write the PBX configuration into out_dir; unchanged files keep their mtime."""
    return write_tree(Path(out_dir), rendered_files(config, prompt_cache))
