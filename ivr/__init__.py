"""The IVR capability: hotline.conf rendered into a complete, self-contained Asterisk setup.

`ivr.render.render_pbx(config, out_dir)` writes the Asterisk configuration files, the
synthesised prompts and the `hotline-pbx.json` manifest; the PBX then works on its own.
`ivr.names` holds the names the rendered files and the service share (contexts, events, sounds).

May import: base (``hotline.config``) only; every capability may import ``ivr.names``.
"""
