"""The sandbox PBX: a real Asterisk 22 in a cached Debian sid root, for tests and the demo.

`ensure_root()` builds or unpacks the root once; `SandboxPbx` runs one named instance of a
rendered configuration inside it, and several instances can run side by side.
"""

from hotline.sandbox.errors import SandboxError
from hotline.sandbox.instance import (
    AmiAccess,
    SandboxPbx,
    SandboxStatus,
    SipBind,
    read_manifest,
    sandbox_overrides,
)
from hotline.sandbox.root import default_cache_dir, ensure_root, root_dir

__all__ = ["AmiAccess", "SandboxError", "SandboxPbx", "SandboxStatus", "SipBind",
           "default_cache_dir", "ensure_root", "read_manifest", "root_dir",
           "sandbox_overrides"]
