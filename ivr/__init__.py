"""The IVR capability: hotline.conf rendered into a complete, self-contained Asterisk setup.

`ivr.render.render_pbx(config, out_dir)` writes the Asterisk configuration files, the
synthesised prompts and the `hotline-pbx.json` manifest; the PBX then works on its own.
"""
